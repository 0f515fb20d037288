package conformance_test

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
)

var update = flag.Bool("update", false, "add new case IDs to testdata/ids.golden (after review)")

const idsGolden = "testdata/ids.golden"

// TestIDsNeverMove guards the published case IDs: every ID in the
// catalogue is listed with its title, none is dropped, renumbered or reused.
func TestIDsNeverMove(t *testing.T) {
	t.Parallel()
	cases := conformance.Catalogue()
	b, err := os.ReadFile(idsGolden)
	if err != nil && !(*update && errors.Is(err, os.ErrNotExist)) {
		t.Fatal(err)
	}
	list, err := conformance.ParseIDList(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", idsGolden, err)
	}
	if *update {
		list = conformance.UpdateIDs(list, cases)
		var out bytes.Buffer
		if err := conformance.WriteIDList(&out, list); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.FromSlash(idsGolden), out.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := conformance.CheckIDs(list, cases); err != nil {
		t.Errorf("%s: %v", idsGolden, err)
	}
}

func TestCheckIDs(t *testing.T) {
	t.Parallel()
	c := func(id, title string) conformance.Case { return conformance.Case{ID: id, Title: title} }
	list := []conformance.IDRecord{{ID: "HDR-001", Title: "one"}, {ID: "HDR-002", Title: "two"}, {ID: "HDR-003", Title: "three", Retired: true}}
	tests := []struct {
		name  string
		cases []conformance.Case
		want  string // "" for no error
	}{
		{"unchanged", []conformance.Case{c("HDR-001", "one"), c("HDR-002", "two")}, ""},
		{"added", []conformance.Case{c("HDR-001", "one"), c("HDR-002", "two"), c("HDR-004", "four")}, "HDR-004 (\"four\") is new"},
		{"dropped", []conformance.Case{c("HDR-001", "one")}, "HDR-002 (\"two\") was dropped"},
		{"reused", []conformance.Case{c("HDR-001", "one"), c("HDR-002", "two"), c("HDR-003", "new three")}, "HDR-003 is retired"},
		{"renumbered", []conformance.Case{c("HDR-001", "two"), c("HDR-002", "one")}, "HDR-001 was \"one\" and is now \"two\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := conformance.CheckIDs(list, tt.cases)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.want != "" && (err == nil || !errors.Is(err, conformance.ErrIDList) || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("got %v, want an ErrIDList saying %q", err, tt.want)
			}
		})
	}
	// -update adds and retires, but never makes a reuse pass.
	up := conformance.UpdateIDs(list, []conformance.Case{c("HDR-002", "two"), c("HDR-004", "four")})
	if err := conformance.CheckIDs(up, []conformance.Case{c("HDR-002", "two"), c("HDR-004", "four")}); err != nil {
		t.Errorf("after update: %v", err)
	}
	reuse := []conformance.Case{c("HDR-003", "again")}
	if err := conformance.CheckIDs(conformance.UpdateIDs(list, reuse), reuse); err == nil {
		t.Error("update let a retired ID be reused")
	}
	var buf bytes.Buffer
	if err := conformance.WriteIDList(&buf, up); err != nil {
		t.Fatal(err)
	}
	back, err := conformance.ParseIDList(&buf)
	if err != nil || len(back) != len(up) {
		t.Fatalf("round trip: %v, %d records, want %d", err, len(back), len(up))
	}
}
