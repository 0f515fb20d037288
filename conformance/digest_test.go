package conformance

import (
	"regexp"
	"testing"
)

func TestCatalogueDigest(t *testing.T) {
	t.Parallel()
	cases := Catalogue()
	d := CatalogueDigest(cases)
	if !regexp.MustCompile(`^sha256:[0-9a-f]{16}$`).MatchString(d) {
		t.Fatalf("digest %q is not sha256:<16 hex>", d)
	}
	rev := make([]Case, len(cases))
	for i, c := range cases {
		rev[len(cases)-1-i] = c
	}
	if got := CatalogueDigest(rev); got != d {
		t.Errorf("order changed the digest: %s vs %s", got, d)
	}
	changed := append([]Case(nil), cases...)
	changed[0].Rule += " (changed)"
	if CatalogueDigest(changed) == d {
		t.Error("a changed rule left the digest unchanged")
	}
	retitled := append([]Case(nil), cases...)
	retitled[0].Title += " (reworded)"
	if CatalogueDigest(retitled) != d {
		t.Error("a reworded title changed the digest")
	}
	if CatalogueDigest(cases[1:]) == d {
		t.Error("a removed case left the digest unchanged")
	}
}
