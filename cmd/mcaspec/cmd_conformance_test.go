package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Bad --focus and --target values are usage errors (exit 2) that say what
// is wrong and what to do, before anything starts.
func TestConformanceUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown focus ID", []string{"--focus", "HDR-099"}, []string{`no such case "HDR-099"`, "closest: HDR-009"}},
		{"one unknown among known", []string{"--focus", "HDR-001,SIG-14"}, []string{`"SIG-14"`, "SIG-014", "--list"}},
		{"lower-case ID", []string{"--focus", "hdr-003"}, []string{"closest: HDR-003"}},
		{"empty focus list", []string{"--focus", " , "}, []string{"names no case ID"}},
		{"file URL", []string{"--target", "file:///etc/passwd"}, []string{"--target", "http:// or https://"}},
		{"no scheme", []string{"--target", "127.0.0.1:3000"}, []string{"--target", "http:// or https://"}},
		{"no host", []string{"--target", "http://"}, []string{"no host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), append([]string{"conformance"}, tt.args...), &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (usage); stderr: %s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not say %q", stderr.String(), w)
				}
			}
		})
	}
}

// A harness fault (here: the harness's own fakeaz cannot make a key, so
// registering a case's app fails) is an ERROR in every report and exits 3;
// it is never a FAIL.
func TestConformanceHarnessErrorExits3(t *testing.T) {
	t.Parallel()
	var keys atomic.Int32
	failingKeys := fakeaz.WithKeyGen(func() (*rsa.PrivateKey, error) {
		// The home app and the three calibration cases get keys; then the AZ breaks.
		if keys.Add(1) > 4 {
			return nil, errors.New("entropy source failed (injected)")
		}
		return tokenfactory.GenerateKey(tokenfactory.DefaultKeyBits, nil)
	})
	out := t.TempDir()
	r := conformanceRun{
		harness: harness.Config{Profile: conformance.Strict, AZListen: "127.0.0.1:0", AZOptions: []fakeaz.Option{failingKeys}},
		focus:   []string{"CAL-001", "CAL-002", "CAL-003", "HDR-001", "TIM-001"},
		out:     out,
	}
	var stdout, stderr bytes.Buffer
	rep, err := r.run(context.Background(), &stdout, &stderr)
	var ee *harness.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("err %v, want exit code 3\nstdout: %s", err, stdout.String())
	}
	if rep.Summary[conformance.Errored] != 2 || rep.Summary[conformance.Fail] != 0 || rep.Summary[conformance.Pass] != 3 {
		t.Errorf("summary %v, want 3 PASS, 2 ERROR, no FAIL", rep.Summary)
	}
	for _, id := range []string{"HDR-001", "TIM-001"} {
		res := rep.ByID()[id]
		if res == nil || res.Verdict != conformance.Errored || !strings.Contains(res.Reason, "entropy source failed") {
			t.Errorf("%s: %+v, want ERROR naming the AZ fault", id, res)
		}
	}
	if !strings.Contains(ee.Error(), "ERROR, not a verdict on the target") {
		t.Errorf("exit message %q does not say the run has harness errors", ee.Error())
	}
	files := map[string][]string{
		"results.json": {`"verdict": "ERROR"`, `"ERROR": 2`},
		"junit.xml":    {`errors="2"`, `<error message="harness error`, `type="harness"`},
		"report.html":  {`Harness errors: 2 cases could not be run`, `<span class="badge error">ERROR</span>`},
	}
	for name, wants := range files {
		b, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range wants {
			if !strings.Contains(string(b), w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
	if !strings.Contains(stdout.String(), "3 PASS, 2 ERROR") || !strings.Contains(stdout.String(), "ERROR         HDR-001") {
		t.Errorf("text summary does not show the ERRORs:\n%s", stdout.String())
	}
}

// --print-contract prints the contract a run gives the target: MCA_ISSUER
// where fakeaz mints MCA tokens, and for the web families the web variables
// (the App ID endpoints for web-appid, the callback under --target's URL).
func TestPrintContractWeb(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		family string
		want   []string
	}{
		{"mca", []string{"MCA_ISSUER=http://127.0.0.1:9080/imf-authserver/authorization/\n"}},
		{"appid", nil},
		{"web", []string{"MCA_ISSUER=http://127.0.0.1:9080/imf-authserver/authorization/\n", "MCA_WEB_CLIENT_ID=" + harness.DefaultWebClientID, "MCA_WEB_SECRET=", "/web/authorization\n", "/web/token\n",
			"MCA_CALLBACK_URL=http://127.0.0.1:3000/web/callback\n"}},
		{"web-appid", []string{"MCA_AUTHORIZATION_ENDPOINT=http://127.0.0.1:9080/imf-authserver/oauth/v4/", "/authorization\n", "/token\n",
			"MCA_CALLBACK_URL=http://127.0.0.1:3000/web/callback\n"}},
	} {
		var stdout, stderr bytes.Buffer
		args := []string{"conformance", "--family", tc.family, "--target", "http://127.0.0.1:3000/", "--print-contract"}
		if code := runMain(context.Background(), args, &stdout, &stderr); code != 0 {
			t.Fatalf("%s: exit %d: %s", tc.family, code, stderr.String())
		}
		out := stdout.String()
		if !strings.HasPrefix(tc.family, "web") && strings.Contains(out, "MCA_WEB_") {
			t.Errorf("%s: web variables printed for a bearer family:\n%s", tc.family, out)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: the contract does not say %q:\n%s", tc.family, w, out)
			}
		}
	}
}
