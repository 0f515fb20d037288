package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/internal/mdtext"
)

// CaseDoc is one case of the catalogue as documentation (the elements of
// WriteCasesJSON's array).
type CaseDoc struct {
	ID       string                                    `json:"id"`
	Area     string                                    `json:"area"`
	Title    string                                    `json:"title"`
	Rule     string                                    `json:"rule"`
	Refs     []string                                  `json:"refs"`
	Needs    []conformance.Need                        `json:"needs"`
	Families []kit.Family                              `json:"families"`
	Levels   map[conformance.Profile]conformance.Level `json:"levels"`
	Outcomes map[conformance.Profile][]kit.Outcome     `json:"outcomes"`
	Recipe   string                                    `json:"recipe"`
}

// CaseDocs turns cases into their documentation, ordered by area
// (conformance.Areas() order, unknown areas after, by key) and, within an
// area, in the order given. Families is Case.DocFamilies; empty lists are
// [] rather than null.
func CaseDocs(cases []conformance.Case) []CaseDoc {
	out := make([]CaseDoc, 0, len(cases))
	for _, c := range orderCases(cases) {
		d := CaseDoc{
			ID: c.ID, Area: c.Area, Title: c.Title, Rule: c.Rule,
			Refs: append([]string{}, c.Refs...), Needs: append([]conformance.Need{}, c.Needs...),
			Families: c.DocFamilies(),
			Levels:   map[conformance.Profile]conformance.Level{},
			Outcomes: map[conformance.Profile][]kit.Outcome{},
		}
		for _, p := range profilesOf(c) {
			e := c.Expect[p]
			d.Levels[p] = e.Level
			d.Outcomes[p] = append([]kit.Outcome{}, e.Outcomes...)
		}
		if c.Recipe != nil {
			d.Recipe = c.Recipe.Describe()
		}
		out = append(out, d)
	}
	return out
}

// profilesOf lists the known profiles, then any other the case has, sorted.
func profilesOf(c conformance.Case) []conformance.Profile {
	ps := conformance.Profiles()
	var extra []conformance.Profile
	for p := range c.Expect {
		known := false
		for _, q := range conformance.Profiles() {
			known = known || p == q
		}
		if !known {
			extra = append(extra, p)
		}
	}
	sort.Slice(extra, func(i, j int) bool { return extra[i] < extra[j] })
	return append(ps, extra...)
}

// orderCases sorts stably by area order.
func orderCases(cases []conformance.Case) []conformance.Case {
	rank := map[string]int{}
	for i, a := range conformance.Areas() {
		rank[a.Key] = i
	}
	out := append([]conformance.Case{}, cases...)
	sort.SliceStable(out, func(i, j int) bool {
		ri, iok := rank[out[i].Area]
		rj, jok := rank[out[j].Area]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return out[i].Area < out[j].Area
	})
	return out
}

// WriteCasesJSON writes the catalogue as a JSON array of CaseDoc.
func WriteCasesJSON(w io.Writer, cases []conformance.Case) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(CaseDocs(cases)); err != nil {
		return fmt.Errorf("reports: write cases JSON: %w", err)
	}
	return nil
}

// outcomeLegend explains each outcome in one line (used by the docs; read only).
var outcomeLegend = []struct {
	Outcome kit.Outcome
	Meaning string
}{
	{kit.InvalidToken, `401 with WWW-Authenticate: Bearer ... error="invalid_token"`},
	{kit.BareChallenge, "401 with a Bearer challenge without an error code"},
	{kit.BadRequest, "400 (any challenge or none)"},
	{kit.InvalidRequest, `400 with WWW-Authenticate: Bearer ... error="invalid_request"`},
	{kit.FailClosed, "the AZ could not be used: 401, 500, 502, 503 or 504, never 200"},
	{kit.Rejected, "any 4xx"},
	{kit.NotOK, "any status but 2xx"},
	{kit.Accepted, "200 from the protected route with the security context the tokens imply"},
	{kit.Observed, "anything; the behaviour is recorded (informational)"},
}

// WriteCasesMarkdown writes the catalogue as Markdown: a legend of levels,
// outcomes and profiles; per area a table of ID, title, levels and
// acceptable outcomes per profile (mca / strict), recipe and references;
// then the rule sentences. The output depends only on cases.
func WriteCasesMarkdown(w io.Writer, cases []conformance.Case) error {
	docs := CaseDocs(cases)
	ew := mdtext.NewWriter(w)
	ew.Printf("## Legend\n\n")
	ew.Printf("**Levels.** A broken `MUST` is a FAIL; a missed `SHOULD` is NON-STRICT (a failure only with `--fail-on-nonstrict`); `INFO` is recorded, never a failure.\n\n")
	ew.Printf("**Profiles.** `mca`: what the seed strategy's README promises. `strict`: adds RFC 6750 / RFC 8725 / RFC 9068 / OIDC best practice. ")
	ew.Printf("Where a case differs between profiles, cells read `mca / strict`.\n\n")
	ew.Printf("**Outcomes** (any one listed is acceptable):\n\n| Outcome | Meaning |\n|---|---|\n")
	for _, o := range outcomeLegend {
		ew.Printf("| `%s` | %s |\n", o.Outcome, mdCell(o.Meaning))
	}
	ew.Printf("\n**Rejections** must also come within the response bound and, where the case says so, without calling downstream.\n\n")

	groups := groupDocs(docs)
	ew.Printf("## Areas\n\n| Area | Prefix | Cases |\n|---|---|---:|\n")
	for _, g := range groups {
		ew.Printf("| [%s](#%s) | %s | %d |\n", mdCell(g.area.Title), mdAnchor(g.area), g.area.Prefix, len(g.docs))
	}
	ew.Printf("\nTotal: %d cases.\n", len(docs))
	for _, g := range groups {
		ew.Printf("\n## %s\n\n", mdHeading(g.area))
		ew.Printf("| ID | Title | Level mca / strict | Outcomes mca / strict | Recipe | References |\n|---|---|---|---|---|---|\n")
		for _, d := range g.docs {
			ew.Printf("| %s | %s | %s | %s | %s | %s |\n", d.ID, mdCell(d.Title), levelCell(d), outcomeCell(d),
				mdCell(d.Recipe), mdCell(strings.Join(d.Refs, "; ")))
		}
	}
	ew.Printf("\n## Rules\n")
	for _, g := range groups {
		ew.Printf("\n### %s rules\n\n", mdCell(g.area.Title))
		for _, d := range g.docs {
			ew.Printf("- **%s** <a id=\"%s\"></a>%s", d.ID, CaseDocAnchor(d.ID), mdCell(d.Rule))
			var extra []string
			if len(d.Needs) > 0 {
				extra = append(extra, "needs "+joinAny(d.Needs))
			}
			if len(d.Families) != 1 || d.Families[0] != kit.FamilyMCA {
				extra = append(extra, "families "+joinFamilies(d.Families))
			}
			if len(extra) > 0 {
				ew.Printf(" _(%s)_", mdCell(strings.Join(extra, "; ")))
			}
			ew.Printf("\n")
		}
	}
	if ew.Err() != nil {
		return fmt.Errorf("reports: write cases Markdown: %w", ew.Err())
	}
	return nil
}

type docGroup struct {
	area conformance.Area
	docs []CaseDoc
}

func groupDocs(docs []CaseDoc) []docGroup {
	var out []docGroup
	for _, d := range docs {
		if len(out) == 0 || out[len(out)-1].area.Key != d.Area {
			a, ok := conformance.AreaByKey(d.Area)
			if !ok {
				a = unknownArea(d.Area)
			}
			out = append(out, docGroup{area: a})
		}
		out[len(out)-1].docs = append(out[len(out)-1].docs, d)
	}
	return out
}

func mdHeading(a conformance.Area) string {
	if a.Prefix == "" {
		return mdCell(a.Title)
	}
	return fmt.Sprintf("%s (%s)", mdCell(a.Title), a.Prefix)
}

// mdAnchor is the GitHub anchor of mdHeading: lower case, spaces to '-',
// punctuation but '-' dropped.
func mdAnchor(a conformance.Area) string {
	var b strings.Builder
	for _, c := range strings.ToLower(mdHeading(a)) {
		switch {
		case c == ' ':
			b.WriteByte('-')
		case c == '-', c == '_', c >= 'a' && c <= 'z', c >= '0' && c <= '9':
			b.WriteRune(c)
		}
	}
	return b.String()
}

func levelCell(d CaseDoc) string {
	var vs []string
	for _, p := range conformance.Profiles() {
		vs = append(vs, string(d.Levels[p]))
	}
	return perProfile(vs)
}

func outcomeCell(d CaseDoc) string {
	var vs []string
	for _, p := range conformance.Profiles() {
		os := d.Outcomes[p]
		s := make([]string, len(os))
		for i, o := range os {
			s[i] = "`" + string(o) + "`"
		}
		vs = append(vs, strings.Join(s, ", "))
	}
	return perProfile(vs)
}

// perProfile prints one value when every profile agrees, else "a / b".
func perProfile(vs []string) string {
	for _, v := range vs[1:] {
		if v != vs[0] {
			return strings.Join(vs, " / ")
		}
	}
	return vs[0]
}

func joinFamilies(fs []kit.Family) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.Name()
	}
	return strings.Join(s, ", ")
}

func joinAny[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = string(x)
	}
	return strings.Join(s, ", ")
}

// mdCell makes text safe in a Markdown table cell: no line breaks, pipes
// and backslashes escaped, no raw HTML, no stray code spans or emphasis.
func mdCell(s string) string { return mdtext.Cell(s) }

// CaseDocAnchor is the anchor of a case's rule in docs/CASES.md
// (docs/CASES.md#hdr-001): SARIF help URIs and summaries link to it.
func CaseDocAnchor(id string) string { return strings.ToLower(anchorSafe(id)) }
