package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mcaspec/mcaspec/internal/fileio"
)

// parseVersions reads "name=version,name=version".
func parseVersions(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" || v == "" {
			return nil, fmt.Errorf("%q is not name=version", kv)
		}
		out[k] = v
	}
	return out, nil
}

// npmVersions returns the installed versions of the dependencies listed in
// dir/package.json (from dir/node_modules/<dep>/package.json), plus node's.
// maxPackageJSON caps a package.json read.
const maxPackageJSON = 16 << 20

func npmVersions(dir string) (map[string]string, error) {
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	b, err := fileio.ReadFile(filepath.Join(dir, "package.json"), maxPackageJSON)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return nil, fmt.Errorf("%s/package.json: %w", dir, err)
	}
	out := map[string]string{}
	for dep := range pkg.Dependencies {
		var m struct {
			Version string `json:"version"`
		}
		b, err := fileio.ReadFile(filepath.Join(dir, "node_modules", dep, "package.json"), maxPackageJSON)
		if err != nil {
			return nil, fmt.Errorf("%s is not installed in %s (run npm ci --prefix %s): %w", dep, dir, dir, err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, err
		}
		out[dep] = m.Version
	}
	return out, nil
}
