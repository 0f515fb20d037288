package main

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
)

// writeResults writes a small results file with one case of each verdict
// (missing is left out) and returns its path.
func writeResults(t *testing.T, dir, name string, profile conformance.Profile, missing string) string {
	t.Helper()
	x := kit.Exchange{Step: "request", Method: "GET", URL: "http://127.0.0.1:1/v1/apps/a/protected",
		Status: 401, Header: http.Header{"WWW-Authenticate": {`Bearer realm="imfAuthentication", error="invalid_token"`}}, Latency: 2 * time.Millisecond}
	var rs []conformance.Result
	for _, c := range []struct {
		id, area string
		v        conformance.Verdict
	}{
		{"CAL-001", "calibration", conformance.Pass}, {"HDR-004", "header", conformance.Fail},
		{"HDR-001", "header", conformance.NonStrict}, {"TIM-003", "time", conformance.Informational},
		{"PRP-004", "propagation", conformance.Skipped}, {"KEY-005", "keys", conformance.Errored},
	} {
		if c.id == missing {
			continue
		}
		r := conformance.Result{ID: c.id, Area: c.area, Title: "title of " + c.id, Rule: "rule", Profile: profile,
			Level: conformance.Must, Expected: []kit.Outcome{kit.InvalidToken}, Verdict: c.v, Reason: "reason of " + c.id}
		if c.v != conformance.Skipped && c.v != conformance.Errored {
			r.Observed = &kit.Observation{Exchanges: []kit.Exchange{x}}
		}
		rs = append(rs, r)
	}
	rep := &conformance.RunReport{Version: conformance.ReportVersion, Tool: "mcaspec", Profile: profile,
		Target: conformance.TargetInfo{Name: name, URL: "http://127.0.0.1:1", Mode: "url"}, Summary: conformance.Summarize(rs), Results: rs}
	var b bytes.Buffer
	if err := rep.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name+"-"+string(profile)+".json")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReportCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ref := writeResults(t, dir, "reference", conformance.MCA, "")
	npm := writeResults(t, dir, "npm", conformance.MCA, "TIM-003")
	strict := writeResults(t, dir, "reference", conformance.Strict, "")
	// The report's folder must exist: mcaspec report writes files, it
	// does not create directory trees (TestUsageErrors has the refusal).
	if err := os.Mkdir(filepath.Join(dir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"version": 99, "tool": "other"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   []string
		stderr   string
		html     string // file that must hold this text
		htmlText string
		junit    string
	}{
		{name: "one file, html and junit", args: []string{"report", "--html", filepath.Join(dir, "out", "r.html"), "--junit", filepath.Join(dir, "out", "j.xml"), ref},
			stdout: []string{"reference (mca): 6 cases: 1 PASS, 1 FAIL, 1 NON-STRICT, 1 INFORMATIONAL, 1 SKIPPED, 1 ERROR", "wrote "},
			html:   filepath.Join(dir, "out", "r.html"), htmlText: "mcaspec conformance: reference (mca)", junit: filepath.Join(dir, "out", "j.xml")},
		{name: "comparison, flags after files", args: []string{"report", ref, npm, strict, "--html", filepath.Join(dir, "c.html")},
			stdout: []string{"npm (mca): 5 cases", "reference (strict): 6 cases"},
			html:   filepath.Join(dir, "c.html"), htmlText: `<td class="cell missing"`},
		{name: "summary only", args: []string{"report", ref}, stdout: []string{"reference (mca)"}, stderr: "only the summary"},
		{name: "missing file", args: []string{"report", filepath.Join(dir, "nope.json")}, code: 2, stderr: "does not exist"},
		{name: "not a results file", args: []string{"report", bad}, code: 2, stderr: "is not an mcaspec results file"},
		{name: "junit with two files", args: []string{"report", "--junit", filepath.Join(dir, "x.xml"), ref, npm}, code: 2, stderr: "exactly one results file"},
		{name: "no file", args: []string{"report"}, code: 2, stderr: "no results file"},
		{name: "help", args: []string{"report", "--help"}, code: 0, stderr: "-fail-on-nonstrict"},
		{name: "after --", args: []string{"report", "--", ref}, stdout: []string{"reference (mca)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out, errb bytes.Buffer
			code := runMain(t.Context(), tt.args, &out, &errb)
			if code != tt.code {
				t.Fatalf("exit %d, want %d; stderr: %s", code, tt.code, errb.String())
			}
			for _, s := range tt.stdout {
				if !strings.Contains(out.String(), s) {
					t.Errorf("stdout lacks %q:\n%s", s, out.String())
				}
			}
			if tt.stderr != "" && !strings.Contains(errb.String(), tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, errb.String())
			}
			if tt.html != "" {
				b, err := os.ReadFile(tt.html)
				if err != nil || !strings.Contains(string(b), tt.htmlText) {
					t.Errorf("HTML %s: err %v, or lacks %q", tt.html, err, tt.htmlText)
				}
			}
			if tt.junit != "" {
				b, err := os.ReadFile(tt.junit)
				if err != nil {
					t.Fatal(err)
				}
				var j struct {
					Tests    int `xml:"tests,attr"`
					Failures int `xml:"failures,attr"`
					Skipped  int `xml:"skipped,attr"`
					Errors   int `xml:"errors,attr"`
				}
				if err := xml.Unmarshal(b, &j); err != nil || j.Tests != 6 || j.Failures != 1 || j.Skipped != 1 || j.Errors != 1 {
					t.Errorf("JUnit: err %v, counts %+v", err, j)
				}
			}
		})
	}
}
