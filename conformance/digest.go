package conformance

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
)

// CatalogueDigest is the version of a case list: "sha256:" and the first 16
// hex digits of a SHA-256 over every case's ID, family, rule and, per
// profile, level and acceptable outcomes, in ID order. Two runs with the
// same digest judged by the same rules; a changed rule, level or outcome
// changes it, a reworded title or reference does not.
func CatalogueDigest(cases []Case) string {
	sorted := append([]Case(nil), cases...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	h := sha256.New()
	for _, c := range sorted {
		fmt.Fprintf(h, "%s\x00%v\x00%s\x00", c.ID, c.Families, c.Rule)
		for _, p := range []Profile{MCA, Strict} {
			e := c.Expect[p]
			fmt.Fprintf(h, "%s\x00%s\x00%v\x00", p, e.Level, e.Outcomes)
		}
		h.Write([]byte{'\n'})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
