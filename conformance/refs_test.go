package conformance_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
)

// TestRefsResolve checks that every reference of every case is one a user
// can open: an RFC or OIDC section, a CVE, a source file on GitHub pinned to
// a commit, or a document of this repository with a section heading that
// exists.
func TestRefsResolve(t *testing.T) {
	t.Parallel()
	external := regexp.MustCompile(`^(RFC \d+ §\d|OIDC Core §\d|CVE-\d{4}-\d+|https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/\S+#L\d+)`)
	docRef := regexp.MustCompile(`^([\w./-]+\.md) §([^:(]+)`)
	headings := map[string][]string{}
	for _, c := range conformance.Catalogue() {
		for _, ref := range c.Refs {
			for _, part := range strings.Split(ref, "; ") {
				if external.MatchString(part) {
					continue
				}
				m := docRef.FindStringSubmatch(part)
				if m == nil {
					t.Errorf("%s: reference %q is neither an RFC/OIDC section, a CVE, a pinned GitHub source line, nor 'path.md §Section'", c.ID, part)
					continue
				}
				file, section := m[1], strings.TrimSpace(m[2])
				hs, ok := headings[file]
				if !ok {
					b, err := os.ReadFile(filepath.Join("..", filepath.FromSlash(file)))
					if err != nil {
						t.Errorf("%s: reference %q: %v", c.ID, part, err)
						headings[file] = nil
						continue
					}
					for _, l := range strings.Split(string(b), "\n") {
						if strings.HasPrefix(l, "#") {
							hs = append(hs, strings.Trim(strings.TrimLeft(l, "# "), "`"))
						}
					}
					headings[file] = hs
				}
				found := false
				for _, h := range hs {
					found = found || h == section
				}
				if !found && hs != nil {
					t.Errorf("%s: reference %q: %s has no section %q", c.ID, part, file, section)
				}
			}
		}
	}
}
