package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/mcaspec/mcaspec/internal/fileio"
)

// Run files. The commands in runFileCommands take every flag from three
// places, in this precedence: the command line, then MCASPEC_<FLAG>
// environment variables (--target-cmd: MCASPEC_TARGET_CMD), then the YAML
// run file --config names (keys are the flag names). It works over the
// FlagSet, so a flag added to one of these commands is covered at once.
// docs/examples/README.md documents it.

// runFileCommands are the commands with --config, --print-config and
// MCASPEC_* variables.
var runFileCommands = map[string]bool{"conformance": true, "bench": true, "run": true}

const (
	configFlag      = "config"
	printConfigFlag = "print-config"
	envPrefix       = "MCASPEC_"
	maxRunFile      = 1 << 20
)

// addRunFileFlags registers --config and --print-config on fs.
func addRunFileFlags(fs *flag.FlagSet) {
	fs.String(configFlag, "", "YAML run file: keys are flag names (docs/examples/); flags and MCASPEC_* variables override it (env: MCASPEC_CONFIG)")
	fs.Bool(printConfigFlag, false, "print the effective configuration (flags > MCASPEC_* environment > --config file > defaults) as a run file, and exit")
}

// printedConfig is returned by parseFlags for --print-config: runMain
// writes YAML to stdout and exits 0.
type printedConfig struct{ yaml []byte }

func (p *printedConfig) Error() string { return "--print-config" }

// envName is the environment variable of a flag.
func envName(flagName string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyRunFile fills the flags the command line did not set from the
// environment, then from the --config file.
func applyRunFile(fs *flag.FlagSet) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || given[f.Name] || f.Name == printConfigFlag {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok && v != "" {
			if serr := fs.Set(f.Name, v); serr != nil {
				err = fmt.Errorf("%w: $%s: %w", errUsage, envName(f.Name), serr)
			}
			given[f.Name] = true
		}
	})
	if err != nil {
		return err
	}
	path := fs.Lookup(configFlag).Value.String()
	if path == "" {
		return nil
	}
	b, err := fileio.ReadFile(path, maxRunFile)
	if err != nil {
		return fmt.Errorf("%w: --config: %w", errUsage, err)
	}
	if err := applyYAML(fs, path, b, given); err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	return nil
}

// applyYAML sets the flags named by the keys of the run file doc, but
// those in skip. An unknown key, a key given twice or a value of the
// wrong shape is an error naming the file and line.
func applyYAML(fs *flag.FlagSet, path string, doc []byte, skip map[string]bool) error {
	var root yaml.Node
	if err := yaml.Unmarshal(doc, &root); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if len(root.Content) == 0 {
		return nil // an empty file
	}
	m := root.Content[0]
	if m.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: a run file is a mapping of flag names to values", path, m.Line)
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		name := k.Value
		f := fs.Lookup(name)
		switch {
		case f == nil || name == configFlag || name == printConfigFlag:
			return fmt.Errorf("%s:%d: unknown key %q: keys are the flags of '%s --help' (without --)", path, k.Line, name, fs.Name())
		case seen[name]:
			return fmt.Errorf("%s:%d: %q is set twice", path, k.Line, name)
		}
		seen[name] = true
		if skip[name] {
			continue
		}
		vals, err := nodeValues(f, v)
		if err != nil {
			return fmt.Errorf("%s:%d: %s: %w", path, v.Line, name, err)
		}
		for _, s := range vals {
			if err := fs.Set(name, s); err != nil {
				return fmt.Errorf("%s:%d: %s: %w", path, v.Line, name, err)
			}
		}
	}
	return nil
}

// nodeValues turns a YAML value into the strings to Set: a scalar as is;
// a list joined with commas for a plain string flag (--focus) or one Set
// per item for a repeatable flag (--compare); a mapping as k=v,k=v
// (--versions).
func nodeValues(f *flag.Flag, v *yaml.Node) ([]string, error) {
	_, plainString := isStringFlag(f)
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		var items []string
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, errors.New("list items must be plain values")
			}
			items = append(items, it.Value)
		}
		if plainString {
			return []string{strings.Join(items, ",")}, nil
		}
		return items, nil
	case yaml.MappingNode:
		if !plainString {
			return nil, errors.New("a mapping is only for name=version style flags")
		}
		var kvs []string
		for i := 0; i+1 < len(v.Content); i += 2 {
			kvs = append(kvs, v.Content[i].Value+"="+v.Content[i+1].Value)
		}
		return []string{strings.Join(kvs, ",")}, nil
	}
	return nil, fmt.Errorf("unsupported YAML value (kind %d)", v.Kind)
}

// isStringFlag says whether f holds one string (flag.String, not a list).
func isStringFlag(f *flag.Flag) (string, bool) {
	g, ok := f.Value.(flag.Getter)
	if !ok {
		return "", false
	}
	s, ok := g.Get().(string)
	return s, ok
}

// secretFlag says whether a flag's value must not be printed.
func secretFlag(name string) bool {
	for _, w := range []string{"secret", "token", "password"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// effectiveConfig renders every flag's value as a run file, each with its
// usage as a comment. Secrets that are set print as a comment only.
func effectiveConfig(fs *flag.FlagSet) ([]byte, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != configFlag && f.Name != printConfigFlag {
			names = append(names, f.Name)
		}
	})
	sort.Strings(names)
	for _, name := range names {
		f := fs.Lookup(name)
		key := &yaml.Node{Kind: yaml.ScalarNode, Value: name, HeadComment: strings.ReplaceAll(f.Usage, "\n", " ")}
		val := &yaml.Node{Kind: yaml.ScalarNode, Value: f.Value.String(), Tag: "!!str"}
		if b, ok := f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			val.Tag = "!!bool"
		}
		if secretFlag(name) && f.Value.String() != f.DefValue {
			val.Value = f.DefValue
			key.HeadComment += " [set; not printed: pass it as $" + envName(name) + "]"
		}
		m.Content = append(m.Content, key, val)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}); err != nil {
		return nil, err
	}
	return buf.Bytes(), enc.Close()
}
