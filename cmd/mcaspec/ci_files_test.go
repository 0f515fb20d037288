package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// flagNames are the flags of an mcaspec command.
func flagNames(t *testing.T, cmd string) map[string]bool {
	t.Helper()
	// The command's FlagSet, as --print-config sees it: every key it prints.
	out, stderr, code := printConfig(t, cmd)
	if code != 0 {
		t.Fatalf("%s --print-config: exit %d: %s", cmd, code, stderr)
	}
	names := map[string]bool{"config": true}
	for _, line := range strings.Split(out, "\n") {
		if k, _, ok := strings.Cut(line, ":"); ok && k != "" && !strings.HasPrefix(k, "#") && !strings.HasPrefix(k, " ") {
			names[k] = true
		}
	}
	return names
}

var envRef = regexp.MustCompile(`\bMCASPEC_[A-Z0-9_]+\b`)

// flagOfEnv is the flag an MCASPEC_* variable sets.
func flagOfEnv(env string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(env, envPrefix), "_", "-"))
}

// TestCIStepsMapToFlags: every input of action.yml that the step passes to mcaspec, and every
// MCASPEC_* variable of the GitLab template and the example pipelines, is a real flag of
// 'mcaspec conformance'; every --flag their scripts write is one too.
func TestCIStepsMapToFlags(t *testing.T) {
	flags := flagNames(t, "conformance")
	// Variables that are not flags: the GitLab template's release to install.
	notFlags := map[string]bool{"MCASPEC_VERSION": true}
	for _, f := range []string{"../../action.yml", "../../ci/mcaspec.gitlab-ci.yml", "../../docs/examples/github-workflow.yml", "../../docs/examples/gitlab-ci.yml"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		n := 0
		for _, env := range envRef.FindAllString(string(b), -1) {
			if notFlags[env] {
				continue
			}
			n++
			if !flags[flagOfEnv(env)] {
				t.Errorf("%s: %s sets no flag of mcaspec conformance (no --%s)", f, env, flagOfEnv(env))
			}
		}
		for _, m := range regexp.MustCompile(`mcaspec conformance([^\n]*)`).FindAllStringSubmatch(string(b), -1) {
			for _, fl := range regexp.MustCompile(`(?:^|\s)--([a-z][a-z0-9-]*)`).FindAllStringSubmatch(m[1], -1) {
				n++
				if !flags[fl[1]] {
					t.Errorf("%s: --%s is not a flag of mcaspec conformance", f, fl[1])
				}
			}
		}
		if n == 0 {
			t.Errorf("%s: passes no flag to mcaspec: the check checked nothing", f)
		}
	}
}

// TestActionInputsReachMcaspec: each input of action.yml is used, and each input named like a
// flag is passed to the run step as that flag's MCASPEC_* variable.
func TestActionInputsReachMcaspec(t *testing.T) {
	flags := flagNames(t, "conformance")
	b, err := os.ReadFile("../../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var action struct {
		Inputs map[string]struct {
			Description string `yaml:"description"`
		} `yaml:"inputs"`
		Runs struct {
			Using string `yaml:"using"`
			Steps []struct {
				ID  string            `yaml:"id"`
				Env map[string]string `yaml:"env"`
			} `yaml:"steps"`
		} `yaml:"runs"`
	}
	if err := yaml.Unmarshal(b, &action); err != nil {
		t.Fatal(err)
	}
	if action.Runs.Using != "composite" || len(action.Inputs) == 0 {
		t.Fatalf("action.yml: using %q, %d inputs", action.Runs.Using, len(action.Inputs))
	}
	var runEnv map[string]string
	for _, s := range action.Runs.Steps {
		if s.ID == "run" {
			runEnv = s.Env
		}
	}
	for name, in := range action.Inputs {
		if in.Description == "" {
			t.Errorf("input %s has no description", name)
		}
		if !strings.Contains(string(b), "inputs."+name+" ") && !strings.Contains(string(b), "inputs."+name+"}") && !strings.Contains(string(b), "inputs."+name+",") && !strings.Contains(string(b), "inputs."+name+")") {
			t.Errorf("input %s is never used", name)
		}
		if !flags[name] {
			continue
		}
		if got := runEnv[envName(name)]; got != "${{ inputs."+name+" }}" {
			t.Errorf("input %s (a flag) reaches the run step as %s=%q, want ${{ inputs.%s }}", name, envName(name), got, name)
		}
	}
}

// TestExampleRunFilesLoad: every run file under docs/examples loads (its keys are the flags of
// the command its name starts with) and --print-config shows its values.
func TestExampleRunFilesLoad(t *testing.T) {
	files, err := filepath.Glob("../../docs/examples/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("docs/examples: %v, %d run files", err, len(files))
	}
	for _, f := range files {
		cmd, _, _ := strings.Cut(filepath.Base(f), "-")
		var out, stderr bytes.Buffer
		code := runMain(context.Background(), []string{cmd, "--config", f, "--print-config"}, &out, &stderr)
		if code != 0 {
			t.Errorf("%s: %s --config: exit %d: %s", f, cmd, code, stderr.String())
			continue
		}
		var doc map[string]any
		b, _ := os.ReadFile(f)
		if err := yaml.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		for k := range doc {
			if !strings.Contains(out.String(), "\n"+k+":") && !strings.HasPrefix(out.String(), k+":") {
				t.Errorf("%s: key %s is not in the effective configuration", f, k)
			}
		}
	}
}
