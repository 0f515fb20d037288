package reports

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/mcaspec/mcaspec/conformance"
)

// sarifSchema compiles the vendored official SARIF 2.1.0 schema.
func sarifSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("testdata/sarif/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestSARIFValidatesAgainstSchema(t *testing.T) {
	t.Parallel()
	schema := sarifSchema(t)
	fx := newFixture(t)
	for _, variant := range []string{"reference", "npm", "strict"} {
		t.Run(variant, func(t *testing.T) {
			r := fx.fixtureReport(variant)
			r.ToolVersion, r.Catalogue = "mcaspec v0.1.0 (0123456789ab)", "sha256:0011223344556677"
			var buf bytes.Buffer
			if err := WriteSARIF(&buf, r, SARIFOptions{}); err != nil {
				t.Fatal(err)
			}
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Fatalf("SARIF output does not validate against the 2.1.0 schema: %v", err)
			}
		})
	}
}

// TestSARIFSchemaCatchesInvalid shows the schema check can fail: a result
// level SARIF does not define is refused.
func TestSARIFSchemaCatchesInvalid(t *testing.T) {
	t.Parallel()
	schema := sarifSchema(t)
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, newFixture(t).fixtureReport("npm"), SARIFOptions{}); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(buf.String(), `"level": "error"`, `"level": "critical"`, 1)
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if schema.Validate(v) == nil {
		t.Fatal("a SARIF log with level \"critical\" validated: the schema check checks nothing")
	}
}

func TestSARIFContent(t *testing.T) {
	t.Parallel()
	r := newFixture(t).fixtureReport("npm")
	var buf bytes.Buffer
	if err := WriteSARIF(&buf, r, SARIFOptions{Artifact: "server.js"}); err != nil {
		t.Fatal(err)
	}
	var log sarifLog
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	ruleIDs := map[string]sarifRule{}
	for _, ru := range run.Tool.Driver.Rules {
		if _, dup := ruleIDs[ru.ID]; dup {
			t.Errorf("rule %s listed twice", ru.ID)
		}
		ruleIDs[ru.ID] = ru
	}
	var findings int
	for _, res := range r.Results {
		ru, ok := ruleIDs[res.ID]
		if !ok {
			t.Errorf("no rule for case %s", res.ID)
			continue
		}
		if ru.FullDescription.Text != res.Rule || !strings.HasSuffix(ru.HelpURI, "/docs/CASES.md#"+strings.ToLower(res.ID)) {
			t.Errorf("rule %s: description %q, helpUri %q", res.ID, ru.FullDescription.Text, ru.HelpURI)
		}
		if want := map[conformance.Level]string{conformance.Must: "error", conformance.Should: "warning"}[res.Level]; want != "" && ru.DefaultConfiguration.Level != want {
			t.Errorf("rule %s (%s): level %s, want %s", res.ID, res.Level, ru.DefaultConfiguration.Level, want)
		}
		if res.Verdict == conformance.Fail || res.Verdict == conformance.NonStrict {
			findings++
		}
	}
	if len(run.Results) != findings || findings == 0 {
		t.Fatalf("%d results, want one per FAIL/NON-STRICT (%d)", len(run.Results), findings)
	}
	for _, res := range run.Results {
		if run.Tool.Driver.Rules[res.RuleIndex].ID != res.RuleID {
			t.Errorf("result %s: ruleIndex %d points at %s", res.RuleID, res.RuleIndex, run.Tool.Driver.Rules[res.RuleIndex].ID)
		}
		if !strings.Contains(res.Message.Text, "Exchange 1") && !strings.Contains(res.Message.Text, "Rule:") {
			t.Errorf("result %s: message has no evidence: %q", res.RuleID, res.Message.Text)
		}
		if res.Locations[0].PhysicalLocation.ArtifactLocation.URI != "server.js" {
			t.Errorf("result %s: artifact %q, want server.js", res.RuleID, res.Locations[0].PhysicalLocation.ArtifactLocation.URI)
		}
	}
}

func TestSummaryMarkdown(t *testing.T) {
	t.Parallel()
	r := newFixture(t).fixtureReport("npm")
	r.ToolVersion, r.Catalogue = "mcaspec v0.1.0 (0123456789ab)", "sha256:0011223344556677"
	r.Results[0].Reason = "evil | <script>alert(1)</script> [x](http://evil)"
	r.Results[0].Verdict = conformance.Fail
	var buf bytes.Buffer
	if err := WriteSummaryMarkdown(&buf, r, SummaryOptions{ReportURL: "report.html"}); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"## mcaspec conformance: bms-mca-token-validation-strategy (mca profile): INVALID",
		"mcaspec v0.1.0 (0123456789ab)", "sha256:0011223344556677",
		"[" + r.Results[0].ID + "](report.html#t0-" + r.Results[0].ID + ")",
		"Baseline `baselines/npm.json`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("summary lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "<script>") || strings.Contains(md, "evil | <") || strings.Contains(md, "[x](http://evil)") {
		t.Errorf("target text was not escaped:\n%s", md)
	}
	for _, v := range conformance.Verdicts() {
		if !strings.Contains(md, " "+string(v)+" |") {
			t.Errorf("no %s column", v)
		}
	}
}

func TestVersionInReports(t *testing.T) {
	t.Parallel()
	r := newFixture(t).fixtureReport("reference")
	r.ToolVersion, r.Catalogue = "mcaspec v0.1.0 (0123456789ab)", "sha256:0011223344556677"
	var junit, html bytes.Buffer
	if err := WriteJUnit(&junit, r, JUnitOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(&html, r); err != nil {
		t.Fatal(err)
	}
	for name, out := range map[string]string{"junit": junit.String(), "html": html.String()} {
		for _, want := range []string{r.ToolVersion, r.Catalogue} {
			if !strings.Contains(out, want) {
				t.Errorf("%s does not record %q", name, want)
			}
		}
	}
}
