package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
)

func TestRunWritesDocs(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "docs")
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(dir, "CASES.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# Conformance cases", "DO NOT EDIT", "make generate", "## Legend", "`fail-closed`", "## Rules", "ids.golden", "**ERROR**"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("CASES.md lacks %q", want)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, "cases.json"))
	if err != nil {
		t.Fatal(err)
	}
	var docs []map[string]any
	if err := json.Unmarshal(js, &docs); err != nil {
		t.Fatal(err)
	}
	if n := len(conformance.Catalogue()); len(docs) != n {
		t.Fatalf("cases.json has %d cases, the catalogue %d", len(docs), n)
	}
	// A second run gives the same bytes (the CI check diffs the output).
	if err := run(dir); err != nil {
		t.Fatal(err)
	}
	again, _ := os.ReadFile(filepath.Join(dir, "CASES.md"))
	if string(again) != string(md) {
		t.Fatal("CASES.md is not deterministic")
	}
}
