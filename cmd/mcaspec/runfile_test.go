package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeTemp(t *testing.T, name, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func printConfig(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := runMain(context.Background(), append(args, "--print-config"), &out, &errb)
	return out.String(), errb.String(), code
}

// TestRunFilePrecedence: flags > MCASPEC_* environment > --config file > defaults.
func TestRunFilePrecedence(t *testing.T) {
	cfg := writeTemp(t, "run.yaml", "profile: mca\nname: from-file\nfocus: [HDR-001, SIG-014]\nresponse-bound: 3s\nversions: {node: v20.1.0, passport: 0.7.0}\n")
	t.Setenv("MCASPEC_NAME", "from-env")
	t.Setenv("MCASPEC_PROFILE", "strict")
	out, stderr, code := printConfig(t, "conformance", "--config", cfg, "--profile", "mca")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"\nprofile: mca\n",           // the flag beats the environment
		"\nname: from-env\n",         // the environment beats the file
		"\nfocus: HDR-001,SIG-014\n", // a list for a string flag is joined
		"\nresponse-bound: 3s\n",     // the file beats the default
		"\nversions: node=v20.1.0,passport=0.7.0\n",
		"\nout: \"\"\n", // defaults are listed too
	} {
		if !strings.Contains(out, want) {
			t.Errorf("effective config lacks %q:\n%s", want, out)
		}
	}
}

// TestRunFileRoundTrip: what --print-config prints is a run file that gives the same configuration.
func TestRunFileRoundTrip(t *testing.T) {
	for _, cmd := range []string{"conformance", "bench", "run"} {
		first, stderr, code := printConfig(t, cmd)
		if code != 0 {
			t.Fatalf("%s --print-config: exit %d: %s", cmd, code, stderr)
		}
		again, stderr, code := printConfig(t, cmd, "--config", writeTemp(t, cmd+".yaml", first))
		if code != 0 || again != first {
			t.Errorf("%s: reloading --print-config's output: exit %d %s\nfirst:\n%s\nagain:\n%s", cmd, code, stderr, first, again)
		}
	}
}

func TestRunFileErrors(t *testing.T) {
	tests := []struct{ name, body, want string }{
		{"unknown key with its line", "profile: mca\n\ntargt: http://x\n", "run.yaml:3: unknown key \"targt\""},
		{"set twice", "name: a\nname: b\n", "run.yaml:2: \"name\" is set twice"},
		{"bad value", "response-bound: soon\n", "run.yaml:1: response-bound"},
		{"not a mapping", "- a\n- b\n", "run.yaml:1: a run file is a mapping"},
		{"config in config", "config: other.yaml\n", "unknown key \"config\""},
		{"bad yaml", "name: [a\n", "run.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := printConfig(t, "conformance", "--config", writeTemp(t, "run.yaml", tt.body))
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
		})
	}
	t.Run("bad environment value", func(t *testing.T) {
		t.Setenv("MCASPEC_RESPONSE_BOUND", "soon")
		_, stderr, code := printConfig(t, "conformance")
		if code != 2 || !strings.Contains(stderr, "$MCASPEC_RESPONSE_BOUND") {
			t.Errorf("exit %d, stderr %q", code, stderr)
		}
	})
}

func TestPrintConfigHidesSecrets(t *testing.T) {
	t.Setenv("MCASPEC_SECRET", "s3cr3t-from-env")
	out, stderr, code := printConfig(t, "conformance")
	if code != 0 || strings.Contains(out, "s3cr3t-from-env") || !strings.Contains(out, "$MCASPEC_SECRET") {
		t.Errorf("exit %d %s: the secret is printed or not pointed to:\n%s", code, stderr, out)
	}
}

// TestEveryFlagHasARunFileKey: the run file covers every flag of the
// commands, including flags added later (it works over the FlagSet).
func TestEveryFlagHasARunFileKey(t *testing.T) {
	for _, cmd := range []string{"conformance", "bench", "run"} {
		out, _, _ := printConfig(t, cmd)
		var help bytes.Buffer
		runMain(context.Background(), []string{cmd, "--help"}, &help, &help)
		for _, line := range strings.Split(help.String(), "\n") {
			f := strings.Fields(line)
			if !strings.HasPrefix(line, "  -") || len(f) == 0 || f[0] == "-config" || f[0] == "-print-config" {
				continue
			}
			if !strings.Contains(out, "\n"+strings.TrimPrefix(f[0], "-")+":") && !strings.HasPrefix(out, strings.TrimPrefix(f[0], "-")+":") {
				t.Errorf("%s: flag %s has no key in --print-config", cmd, f[0])
			}
		}
	}
}
