// Package conformance is the catalogue of conformance cases for MCA bearer
// token validators, and the runner that executes one case against a target
// that follows the target contract (docs/TARGET-CONTRACT.md).
//
// A case is data: a stable ID (never reused, never positional), a title, a
// rule sentence with its level per profile, references, a recipe that makes
// the request, and the set of acceptable outcomes. The Ginkgo specs
// (conformance/specs), the reports and the generated docs are all built from
// Catalogue(); this package imports no Ginkgo.
//
// Three layers, one folder each: the catalogue and the runner here; the kit a
// recipe acts with (Env, exchanges, browser, sink, attacker, outcomes, the
// protocol family) in conformance/kit, which knows no case; and the harness
// (conformance/harness), which starts the target and the servers, runs the
// catalogue through a Runner and owns the run folder and its reports.
package conformance

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Level is how binding a rule is in a profile.
type Level string

// Levels. A broken MUST is a FAIL, a missed SHOULD is NON-STRICT, INFO is
// only recorded.
const (
	Must   Level = "MUST"
	Should Level = "SHOULD"
	Info   Level = "INFO"
)

// Profile is a set of levels for the catalogue.
type Profile string

// Profiles: mca is what the seed strategy's README promises; strict adds
// RFC 6750 / RFC 8725 / RFC 9068 / OIDC best practice.
const (
	MCA    Profile = "mca"
	Strict Profile = "strict"
)

// Profiles lists every profile (a new slice on each call).
func Profiles() []Profile { return []Profile{MCA, Strict} }

// ParseProfile validates a profile name.
func ParseProfile(s string) (Profile, error) {
	for _, p := range Profiles() {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown profile %q (want mca or strict)", s)
}

// Area groups cases; its Prefix starts every case ID of the area.
type Area struct {
	Key, Prefix, Title string
}

// Areas lists the areas in run order (a new slice on each call).
func Areas() []Area {
	return []Area{
		{"calibration", "CAL", "Calibration"},
		{"header", "HDR", "Header syntax"},
		{"structure", "STR", "Token structure"},
		{"signature", "SIG", "Signature and algorithm"},
		{"time", "TIM", "Time claims"},
		{"audience", "AUD", "Audience and issuer"},
		{"idtoken", "IDT", "Id token pairing and security context"},
		{"cache", "CCH", "Caching"},
		{"keys", "KEY", "Keys: retrieval, caching, rotation"},
		{"propagation", "PRP", "Propagation and service tokens"},
		{"resilience", "RES", "Resilience"},
		{"web", "WEB", "Web sign-in (authorization code, sessions, redirects)"},
	}
}

// AreaByKey returns the area with that key.
func AreaByKey(key string) (Area, bool) {
	for _, a := range Areas() {
		if a.Key == key {
			return a, true
		}
	}
	return Area{}, false
}

// Expect is a case's expectation in one profile.
type Expect struct {
	Level    Level
	Outcomes []kit.Outcome
}

// Need is something a case requires from the run.
type Need string

// Needs.
const (
	// NeedFreshApp: the case creates its own app id (a fixed-app-id target
	// serves one app only: see Runner.FixedAppID).
	NeedFreshApp Need = "fresh-app"
	// NeedAZControl: the case injects faults or rotates keys at the AZ.
	NeedAZControl Need = "az-control"
	// NeedServiceCredentials: the target must have service credentials (service-call).
	NeedServiceCredentials Need = "service-credentials"
	// NeedSecondApp: the case uses two apps (a fixed-app-id target cannot).
	NeedSecondApp Need = "second-app"
	// NeedDisruptive: the case floods the target (and may drain its rate
	// limiters for a while), so it runs after every other case.
	NeedDisruptive Need = "disruptive"
)

// Case is one conformance case.
type Case struct {
	// ID is stable: area prefix, a dash, three digits (HDR-003). Never reused.
	ID    string
	Area  string
	Title string
	// Rule is the rule sentence, with MUST/SHOULD as in the strict profile.
	Rule string
	// Refs are references a user can open: RFC or OIDC sections, CVEs,
	// documents of this repository with a section (§Heading), including
	// docs/SEED-README.md, which quotes the seed strategy's README.
	Refs   []string
	Expect map[Profile]Expect
	Needs  []Need
	// Families the case applies to (default: every bearer family); a case
	// listing an App ID family applies to every App ID generation.
	Families []kit.Family
	Recipe   kit.Recipe
}

// Needs reports whether the case needs n.
func (c *Case) NeedsAny(ns ...Need) bool {
	for _, have := range c.Needs {
		for _, n := range ns {
			if have == n {
				return true
			}
		}
	}
	return false
}

// DocFamilies returns a copy of the families the case lists for its
// documentation: Families, or [FamilyMCA] for a case that lists none (it
// applies to every bearer family; the docs name MCA, the family the
// catalogue was written for).
func (c *Case) DocFamilies() []kit.Family {
	if len(c.Families) == 0 {
		return []kit.Family{kit.FamilyMCA}
	}
	return append([]kit.Family{}, c.Families...)
}

// AppliesTo reports whether the case applies to a protocol family.
func (c *Case) AppliesTo(f kit.Family) bool {
	if len(c.Families) == 0 {
		return !f.IsWeb()
	}
	for _, x := range c.Families {
		if x.Kind() == f.Kind() {
			return true
		}
	}
	return false
}

// Labels are the Ginkgo labels of the case in a profile: case:ID,
// level:must|should|info, area:KEY.
func (c *Case) Labels(p Profile) []string {
	return []string{"case:" + c.ID, "level:" + strings.ToLower(string(c.Expect[p].Level)), "area:" + c.Area}
}

var idRE = regexp.MustCompile(`^[A-Z]{3}-[0-9]{3}$`)

// Validate checks the catalogue: unique, well-formed, label-safe IDs whose
// prefix matches the area; a rule, a reference, a recipe and an expectation
// for every profile on every case.
func Validate(cases []Case) error {
	seen := map[string]bool{}
	var errs []string
	for _, c := range cases {
		area, ok := AreaByKey(c.Area)
		switch {
		case !idRE.MatchString(c.ID):
			errs = append(errs, fmt.Sprintf("%q: ID is not like HDR-001", c.ID))
		case seen[c.ID]:
			errs = append(errs, c.ID+": duplicate ID")
		case !ok:
			errs = append(errs, fmt.Sprintf("%s: unknown area %q", c.ID, c.Area))
		case !strings.HasPrefix(c.ID, area.Prefix+"-"):
			errs = append(errs, fmt.Sprintf("%s: area %s wants prefix %s", c.ID, c.Area, area.Prefix))
		}
		seen[c.ID] = true
		if c.Title == "" || c.Rule == "" {
			errs = append(errs, c.ID+": missing title or rule")
		}
		if len(c.Refs) == 0 {
			errs = append(errs, c.ID+": no reference")
		}
		if c.Recipe == nil {
			errs = append(errs, c.ID+": no recipe")
		}
		for _, p := range Profiles() {
			e, ok := c.Expect[p]
			if !ok || len(e.Outcomes) == 0 {
				errs = append(errs, fmt.Sprintf("%s: no expectation for profile %s", c.ID, p))
			}
			if ok && e.Level != Must && e.Level != Should && e.Level != Info {
				errs = append(errs, fmt.Sprintf("%s: bad level %q", c.ID, e.Level))
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("catalogue: %s", strings.Join(errs, "; "))
	}
	return nil
}

// Select returns the cases whose ID, area or label matches one of the
// filters (all cases when filters is empty). A filter is a case ID
// ("HDR-003"), an area key ("header") or a label ("level:must").
func Select(cases []Case, p Profile, filters []string) []Case {
	if len(filters) == 0 {
		return cases
	}
	var out []Case
	for _, c := range cases {
		for _, f := range filters {
			if f == c.ID || f == c.Area || contains(c.Labels(p), f) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Closest returns up to n catalogue IDs nearest to id, for "did you
// mean" messages: the smallest edit distance (ignoring case) first, IDs
// of the same area prefix before others at the same distance.
func Closest(cases []Case, id string, n int) []string {
	want := strings.ToUpper(strings.TrimSpace(id))
	prefix, _, _ := strings.Cut(want, "-")
	type cand struct {
		id        string
		d         int
		samePrefx bool
	}
	var cs []cand
	for _, c := range cases {
		p, _, _ := strings.Cut(c.ID, "-")
		cs = append(cs, cand{c.ID, editDistance(want, c.ID), p == prefix})
	}
	sort.SliceStable(cs, func(i, j int) bool {
		if cs[i].d != cs[j].d {
			return cs[i].d < cs[j].d
		}
		if cs[i].samePrefx != cs[j].samePrefx {
			return cs[i].samePrefx
		}
		return cs[i].id < cs[j].id
	})
	var out []string
	for _, c := range cs[:min(n, len(cs))] {
		out = append(out, c.id)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b (bytes).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Catalogue returns every case, in run order (calibration first). The
// slice is new on every call.
func Catalogue() []Case {
	var cs []Case
	cs = append(cs, calibrationCases()...)
	cs = append(cs, headerCases()...)
	cs = append(cs, structureCases()...)
	cs = append(cs, signatureCases()...)
	cs = append(cs, timeCases()...)
	cs = append(cs, audienceCases()...)
	cs = append(cs, idTokenCases()...)
	cs = append(cs, cacheCases()...)
	cs = append(cs, keyCases()...)
	cs = append(cs, propagationCases()...)
	cs = append(cs, resilienceCases()...)
	cs = append(cs, webCases()...)
	return cs
}

// same gives both profiles one expectation.
func same(l Level, outs ...kit.Outcome) map[Profile]Expect {
	return map[Profile]Expect{MCA: {l, outs}, Strict: {l, outs}}
}

// split gives each profile its own expectation.
func split(mca, strict Expect) map[Profile]Expect {
	return map[Profile]Expect{MCA: mca, Strict: strict}
}

func exp(l Level, outs ...kit.Outcome) Expect { return Expect{l, outs} }

// mcaOnly marks cases that rely on the MCA token shape (string aud, MCA
// service tokens); App ID tokens carry aud as an array.
var mcaOnly = []kit.Family{kit.FamilyMCA}

// must401i: an invalid token, refused with invalid_token in every profile.
var must401i = same(Must, kit.InvalidToken)

func muts(ms ...tokenfactory.Mutation) []tokenfactory.Mutation { return ms }

// refusedAccess returns the constructor of an area's cases of the form "a
// pair whose access token is broken by mutation m is refused with
// invalid_token in every profile" (refSeedInvalid is added to refs).
func refusedAccess(area string) func(id, title, rule string, refs []string, m tokenfactory.Mutation) Case {
	return func(id, title, rule string, refs []string, m tokenfactory.Mutation) Case {
		return Case{ID: id, Area: area, Title: title, Rule: rule, Refs: append(refs, refSeedInvalid), Expect: must401i,
			Recipe: kit.Tokens{Access: muts(m)}}
	}
}

// fixed returns a Format that ignores the tokens.
func fixed(vals ...string) func(string, string) []string {
	return func(string, string) []string { return vals }
}
