package conformance

import (
	"context"

	"github.com/mcaspec/mcaspec/conformance/kit"
)

// The web family's redirects (WEB-4xx): where the browser is sent after
// the sign-in.

const (
	titleStaysOnSite = "The page remembered for after the sign-in stays on the site: "
	ruleStaysOnSite  = "The redirect after the sign-in MUST stay on the target's site, whatever path below /web/protected the browser first asked for."
)

func webRedirectCases() []Case {
	return []Case{
		{ID: "WEB-401", Area: "web", Title: titleStaysOnSite + "a path that is a scheme-relative URL once the mount point is cut (//evil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: openRedirectRecipe("//evil.example/landing")},
		{ID: "WEB-402", Area: "web", Title: titleStaysOnSite + "an encoded scheme-relative URL (%2F%2Fevil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: openRedirectRecipe("/%2F%2Fevil.example/landing")},
		{ID: "WEB-403", Area: "web", Title: titleStaysOnSite + `a backslash browsers read as a slash (/\evil.example/…)`,
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: openRedirectRecipe(`/%5Cevil.example/landing`)},
		{ID: "WEB-404", Area: "web", Title: titleStaysOnSite + "three slashes, a scheme-relative URL once a router mounted at /web/protected/ cuts its prefix (///evil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes, refRedirLists}, Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: openRedirectRecipe("///evil.example/landing")},
		{ID: "WEB-405", Area: "web", Title: titleStaysOnSite + "an encoded tab between the slashes, which browsers drop once it is decoded (/%09/evil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes, refRedirLists}, Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: openRedirectRecipe("/%09/evil.example/landing")},
		{ID: "WEB-406", Area: "web", Title: "After the sign-in the browser lands on the page it first asked for",
			Rule: "After a sign-in started from a page below /web/protected, the callback SHOULD (strict: MUST) send the browser back to that page, path and query, on the target's site.",
			Refs: []string{refWebRoutes, "RFC 6749 §10.12 (the state may carry the client's return location)"}, Expect: split(exp(Should, kit.Observed), exp(Must, kit.Observed)), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the browser opens " + landingPage + " and signs in; the callback's Location, resolved against the callback URL, must be that page on the target", Fn: asVictim(landsWhereAsked)}},
	}
}

// refRedirLists is where the open-redirect inputs and their sources are listed.
const refRedirLists = "docs/TARGET-CONTRACT.md §Open-redirect inputs"

// landingPage is WEB-406's first page: a path below /web/protected with a
// query that needs encoding.
const landingPage = "/web/protected/landing/page?tab=2&q=a%20b"

func landsWhereAsked(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	st, ok, err := b.SignIn(ctx, landingPage)
	if !ok {
		return err
	}
	kit.MarkJudged(e, st.Done)
	u, ok := kit.Location(st.Done)
	switch {
	case st.Done.Status < 300 || st.Done.Status >= 400 || !ok:
		e.Observation().Failf("precondition: the callback of a valid sign-in got %s, not a redirect", st.Done.Brief())
	case b.OffSite(st.Done) || !b.OnTarget(u):
		e.Observation().Failf("after the sign-in the target sends the browser off the site, to %q", st.Done.Header.Get("Location"))
	case u.EscapedPath()+"?"+u.RawQuery != landingPage:
		e.Observation().Failf("after the sign-in the browser lands on %s, not on %s, the page it asked for", u.RequestURI(), landingPage)
	}
	return nil
}

// openRedirectRecipe signs in from /web/protected+below; the callback's
// Location must not lead off the site.
func openRedirectRecipe(below string) kit.Procedure {
	return kit.Procedure{
		Doc: "the browser opens /web/protected" + below + " and signs in; the callback's Location must not lead to another site",
		Fn: asVictim(func(ctx context.Context, e *kit.Env, b *kit.Browser) error {
			st, ok, err := b.SignIn(ctx, "/web/protected"+below)
			if !ok {
				return err
			}
			kit.MarkJudged(e, st.Done)
			if b.OffSite(st.Done) {
				e.Observation().Failf("open redirect: after the sign-in the target sends the browser to %q", st.Done.Header.Get("Location"))
			}
			return nil
		}),
	}
}
