// Validates SARIF logs with Microsoft's SARIF Multitool (pinned in package-lock.json) and fails on
// any error-level finding: the multitool itself exits 0 whatever it finds.
//   node build/sarif/check.js FILE.sarif...   (after npm ci --prefix build/sarif)
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');

const bin = path.join(__dirname, 'node_modules', '.bin', 'sarif-multitool');
let failed = 0;
for (const file of process.argv.slice(2)) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sarif-check-')), 'validation.sarif');
  execFileSync(bin, ['validate', file, '-o', out], { stdio: ['ignore', 'inherit', 'inherit'] });
  const log = JSON.parse(fs.readFileSync(out, 'utf8').replace(/^\uFEFF/, ''));
  const run = log.runs[0];
  const errors = (run.results || []).filter((r) => (r.level || 'warning') === 'error');
  const ok = run.invocations.every((i) => i.executionSuccessful);
  console.log(`${file}: ${(run.results || []).length} finding(s), ${errors.length} error(s)${ok ? '' : ', the validator did not run to the end'}`);
  for (const e of errors) console.log(`  ${e.ruleId}: ${e.message.text || JSON.stringify(e.message)}`);
  if (errors.length || !ok) failed++;
}
process.exit(failed ? 1 : 0);
