package conformance

import "context"

// The web family's redirects (WEB-4xx): where the browser is sent after
// the sign-in.

const (
	titleStaysOnSite = "The page remembered for after the sign-in stays on the site: "
	ruleStaysOnSite  = "The redirect after the sign-in MUST stay on the target's site, whatever path below /web/protected the browser first asked for."
)

func webRedirectCases() []Case {
	return []Case{
		{ID: "WEB-401", Area: "web", Title: titleStaysOnSite + "a path that is a scheme-relative URL once the mount point is cut (//evil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, Observed), Families: webFamily,
			Recipe: openRedirectRecipe("//evil.example/landing")},
		{ID: "WEB-402", Area: "web", Title: titleStaysOnSite + "an encoded scheme-relative URL (%2F%2Fevil.example/…)",
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, Observed), Families: webFamily,
			Recipe: openRedirectRecipe("/%2F%2Fevil.example/landing")},
		{ID: "WEB-403", Area: "web", Title: titleStaysOnSite + `a backslash browsers read as a slash (/\evil.example/…)`,
			Rule: ruleStaysOnSite, Refs: []string{refOpenRedir, refWebRoutes}, Expect: same(Must, Observed), Families: webFamily,
			Recipe: openRedirectRecipe(`/%5Cevil.example/landing`)},
	}
}

// openRedirectRecipe signs in from /web/protected+below; the callback's
// Location must not lead off the site.
func openRedirectRecipe(below string) Procedure {
	return Procedure{
		Doc: "the browser opens /web/protected" + below + " and signs in; the callback's Location must not lead to another site",
		Fn: func(ctx context.Context, e *Env) error {
			b, err := e.NewBrowser("victim", "victim")
			if err != nil {
				return err
			}
			st, ok, err := b.SignIn(ctx, "/web/protected"+below)
			if err != nil || !ok {
				return err
			}
			markJudged(e, st.Done)
			if b.OffSite(st.Done) {
				e.obs.Failf("open redirect: after the sign-in the target sends the browser to %q", st.Done.Header.Get("Location"))
			}
			return nil
		},
	}
}
