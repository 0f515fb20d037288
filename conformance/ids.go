package conformance

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
)

// IDRecord is one line of the published list of case IDs
// (conformance/testdata/ids.golden): every ID the catalogue ever had, with
// its title, and whether the case was removed. README sections, baselines
// and published reports cite these IDs, so the list only grows.
type IDRecord struct {
	ID      string
	Title   string
	Retired bool
}

// ID list statuses, the second column of the file.
const (
	idActive  = "active"
	idRetired = "retired"
)

// ErrIDList is wrapped by CheckIDs when the catalogue breaks the ID list.
var ErrIDList = errors.New("case IDs differ from the published list")

// ParseIDList reads an ID list: one "ID<TAB>active|retired<TAB>title" a
// line; blank lines and lines starting with '#' are ignored.
func ParseIDList(r io.Reader) ([]IDRecord, error) {
	var out []IDRecord
	seen := map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, "\t", 3)
		if len(f) != 3 || !idRE.MatchString(f[0]) || (f[1] != idActive && f[1] != idRetired) {
			return nil, fmt.Errorf("line %d: want 'ID<TAB>active|retired<TAB>title', got %q", n, line)
		}
		if seen[f[0]] {
			return nil, fmt.Errorf("line %d: %s listed twice", n, f[0])
		}
		seen[f[0]] = true
		out = append(out, IDRecord{ID: f[0], Title: f[2], Retired: f[1] == idRetired})
	}
	return out, sc.Err()
}

// WriteIDList writes the list sorted by ID, with a header saying how to
// change it.
func WriteIDList(w io.Writer, list []IDRecord) error {
	rs := append([]IDRecord(nil), list...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	var b strings.Builder
	b.WriteString("# Every conformance case ID ever published: ID, status, title (tab-separated).\n")
	b.WriteString("# Guarded by TestIDsNeverMove (conformance/ids_test.go). A new case takes a new\n")
	b.WriteString("# ID and is added with `go test ./conformance -run TestIDsNeverMove -update`;\n")
	b.WriteString("# a removed case stays here as retired; an ID is never renumbered or reused.\n")
	for _, r := range rs {
		st := idActive
		if r.Retired {
			st = idRetired
		}
		fmt.Fprintf(&b, "%s\t%s\t%s\n", r.ID, st, r.Title)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// CheckIDs compares the catalogue with the published list. It reports
// IDs that were dropped (listed active, no longer in the catalogue: mark
// them retired), reused (listed retired, back in the catalogue),
// renumbered or repurposed (same ID, another title) and new (not listed
// yet: add them with -update after review).
func CheckIDs(list []IDRecord, cases []Case) error {
	byID := map[string]IDRecord{}
	for _, r := range list {
		byID[r.ID] = r
	}
	inCat := map[string]bool{}
	var errs []string
	for _, c := range cases {
		inCat[c.ID] = true
		r, ok := byID[c.ID]
		switch {
		case !ok:
			errs = append(errs, fmt.Sprintf("%s (%q) is new: review it and add it with -update", c.ID, c.Title))
		case r.Retired:
			errs = append(errs, fmt.Sprintf("%s is retired (%q) and may not be reused: give %q a new ID", c.ID, r.Title, c.Title))
		case r.Title != c.Title:
			errs = append(errs, fmt.Sprintf("%s was %q and is now %q: a renumbered case keeps its old ID (a reworded title is recorded with -update)", c.ID, r.Title, c.Title))
		}
	}
	for _, r := range list {
		if !r.Retired && !inCat[r.ID] {
			errs = append(errs, fmt.Sprintf("%s (%q) was dropped: IDs are never dropped, mark it retired (-update does)", r.ID, r.Title))
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("%w:\n  %s", ErrIDList, strings.Join(errs, "\n  "))
	}
	return nil
}

// UpdateIDs returns the list with the catalogue's new IDs added, titles
// brought up to date and dropped IDs marked retired. It never removes a
// line and never brings a retired ID back: reuse stays an error.
func UpdateIDs(list []IDRecord, cases []Case) []IDRecord {
	out := append([]IDRecord(nil), list...)
	idx := map[string]int{}
	for i, r := range out {
		idx[r.ID] = i
	}
	inCat := map[string]bool{}
	for _, c := range cases {
		inCat[c.ID] = true
		i, ok := idx[c.ID]
		switch {
		case !ok:
			out = append(out, IDRecord{ID: c.ID, Title: c.Title})
		case !out[i].Retired:
			out[i].Title = c.Title
		}
	}
	for i := range out {
		if !inCat[out[i].ID] {
			out[i].Retired = true
		}
	}
	return out
}
