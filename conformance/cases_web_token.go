package conformance

import (
	"context"
	"fmt"
	"net/url"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family's token endpoint (WEB-5xx): the AZ's token endpoint fails
// one way, and the callback must be a refused sign-in, answered in time.

func webTokenCases() []Case {
	return []Case{
		tokenFaultCase(Case{ID: "WEB-501", Title: "The token endpoint answers 500"},
			"a 500 with a JSON error", &fakeaz.FaultSpec{Status: 500, Body: `{"error":"server_error","error_description":"mcaspec fault"}`}, fakeaz.WebScenario{}),
		tokenFaultCase(Case{ID: "WEB-502", Title: "The token endpoint answers HTML"},
			"a 200 with an HTML page (not JSON)", &fakeaz.FaultSpec{Status: 200, Body: "<html><body>Service Unavailable</body></html>", ContentType: "text/html"}, fakeaz.WebScenario{}),
		tokenFaultCase(Case{ID: "WEB-503", Title: "The token endpoint answers without id_token"},
			"a 200 JSON token response without id_token", nil, fakeaz.WebScenario{OmitIDToken: true}),
		tokenFaultCase(Case{ID: "WEB-504", Title: "The token endpoint hangs"},
			hangs, &fakeaz.FaultSpec{Hang: true, Status: 504, Body: `{"error":"temporarily_unavailable"}`}, fakeaz.WebScenario{}),
		tokenFaultCase(Case{ID: "WEB-505", Title: "The token endpoint resets the connection"},
			"the connection closed without an answer", nil, fakeaz.WebScenario{Reset: true}),
		{ID: "WEB-506", Area: "web", Title: "A callback without a code makes no token request",
			Rule: "A callback without a code SHOULD be refused before any request to the token endpoint: a site should not make client-authenticated calls to the AZ on an attacker's say-so.",
			Refs: []string{"RFC 6749 §4.1.2 (the authorization response carries code)", "RFC 6749 §4.1.3 (the access token request sends the code received)", refAZWeb}, Expect: same(Should, kit.Observed), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the browser signs in, but the AZ's redirect back loses its code parameter; the AZ counts the token requests the callback makes", Fn: noTokenRequestWithoutCode}},
	}
}

func noTokenRequestWithoutCode(ctx context.Context, e *kit.Env) error {
	endpoint := e.AZ().WebTokenEndpoint(e.Kit().HomeAppID)
	before := e.AZ().Stats().Count(endpoint, e.Kit().HomeAppID)
	if err := tamperedCallback(func(q url.Values) { q.Del("code") })(ctx, e); err != nil {
		return err
	}
	n := e.AZ().Stats().Count(endpoint, e.Kit().HomeAppID) - before
	e.Observation().Fact("token requests", "%d", n)
	if n > 0 {
		e.Observation().Failf("the callback without a code made %d request(s) to the token endpoint (client-authenticated, on the say-so of whoever sent the browser there)", n)
	}
	return nil
}

const hangs = "no answer at all (the request is held until the case ends, then answered 504)"

// tokenFaultCase completes c, a case whose AZ token endpoint fails as what
// says (fault on the endpoint, or the scenario sc): the callback must be a
// refused sign-in, answered within the bound.
func tokenFaultCase(c Case, what string, fault *fakeaz.FaultSpec, sc fakeaz.WebScenario) Case {
	c.Rule = "When the token endpoint fails (" + what + "), the callback MUST be answered within the bound as a refused sign-in (a 4xx in strict), never signed in, never a hang or a crash."
	c.Refs = []string{refTokenFault, refWebRoutes, refAZWeb}
	c.Recipe = kit.Procedure{Doc: "the AZ's token endpoint gives " + what + "; the browser signs in; the callback is judged", Fn: scenarioSignIn(sc, fault)}
	return refusedSignIn(c)
}

// scenarioSignIn runs a sign-in with the AZ misbehaving (a scenario, a
// fault on the token endpoint): the callback is judged, and the browser
// must not be signed in.
func scenarioSignIn(sc fakeaz.WebScenario, fault *fakeaz.FaultSpec) func(context.Context, *kit.Env) error {
	return asVictim(func(ctx context.Context, e *kit.Env, b *kit.Browser) error {
		wc, err := e.WebClient()
		if err != nil {
			return err
		}
		if err := setScenario(e, wc, sc); err != nil {
			return err
		}
		if fault != nil {
			f := *fault
			f.Endpoint, f.AppID = e.AZ().WebTokenEndpoint(e.Kit().HomeAppID), e.Kit().HomeAppID
			if err := e.AZ().SetFault(f); err != nil {
				return fmt.Errorf("%w: fault: %w", kit.ErrSetup, err)
			}
			e.Defer(e.AZ().ClearFaults)
		}
		st, ok, err := b.SignIn(ctx, "/web/protected")
		if !ok {
			return err
		}
		kit.MarkJudged(e, st.Done)
		if sc.IDTokenFault == fakeaz.WebIDTokenWrongNonce && st.AuthRequest.Query().Get("nonce") == "" {
			return Skip("the target sends no nonce (WEB-003), so there is none to compare")
		}
		if b.OffSite(st.Done) {
			return nil
		}
		if fault != nil {
			e.AZ().ClearFaults() // release a hanging token request before checking
		}
		notSignedIn(ctx, e, b, "")
		return nil
	})
}
