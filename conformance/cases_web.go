package conformance

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family: websites that sign users in with the authorization-code
// flow (the npm MCAWebSiteStrategy, App ID's WebAppStrategy, the reference
// web RP reference/webrp). The harness plays the browser (Browser: a cookie
// jar each, a victim's and an attacker's) and the AZ's web endpoints
// (fakeaz/web.go). Anchored on the OpenID Foundation's relying-party tests
// (rp-* of the old suite), plus the session and redirect cases they lack.
// The target contract is docs/TARGET-CONTRACT.md §Web sign-in targets.

// References of the web family.
const (
	refWebContract = "docs/TARGET-CONTRACT.md §Web sign-in targets"
	refWebRoutes   = "docs/TARGET-CONTRACT.md §Routes"
	refAZWeb       = "fakeaz/README.md §Web sign-in"
	refCSRF        = "RFC 6749 §10.12 (CSRF: state bound to the user agent)"
	refBCPCSRF     = "RFC 9700 §2.1 (CSRF protection: PKCE, or state / nonce, single-use, bound to the user agent)"
	refBCPPKCE     = "RFC 9700 §2.1.1 (PKCE S256 for every client)"
	refPKCE        = "RFC 7636 §4.2 (S256)"
	refEntropy     = "RFC 6749 §10.10 (credentials guessing: at least 128 bits)"
	refRedirectURI = "RFC 6749 §3.1.2 (redirect_uri, registered, compared exactly: RFC 9700 §2.1)"
	refCodeOnce    = "RFC 6749 §4.1.2 (a code is used once)"
	refAuthzError  = "RFC 6749 §4.1.2.1 (error response, e.g. access_denied)"
	refNonce       = "OIDC Core §3.1.2.1 (nonce); OIDC Core §3.1.3.7 item 11 (OIDF RP test rp-nonce-invalid)"
	refIDTValid    = "OIDC Core §3.1.3.7 (ID token validation)"
	refIDTClaims   = "OIDC Core §2 (iss, sub, aud, exp, iat are REQUIRED)"
	refFixation    = "RFC 6819 §4.4.1.8 (CSRF at the redirect URI, and, as the OWASP Session Management Cheat Sheet asks, a new session id at sign-in)"
	refOpenRedir   = "RFC 6749 §10.15 (open redirectors); RFC 9700 §4.11 (open redirection)"
	refTokenFault  = "RFC 6749 §5.1, §5.2 (the token response: JSON with id_token, or an error)"
	refLogout      = "OIDC Core §3.1.3.7 (a session rests on the ID token, and the OWASP Session Management Cheat Sheet: invalidate the session on logout, server side)"
)

// webRefused is the expectation of a sign-in that must not happen: in mca
// any answer but a 2xx (a redirect to an error page too), in strict a 4xx
// as the web contract asks; in both, the browser must not be signed in
// (checked by the procedure) and the answer must come within the bound.
var webRefused = split(exp(Must, kit.NotOK), exp(Must, kit.Rejected))

// webFamily marks the cases of the web family.
var webFamily = []kit.Family{kit.FamilyWeb, kit.FamilyWebAppID}

// webCases is the web area (and its calibration cases), in run order: the
// calibration first, the key rotation last.
func webCases() []Case {
	var cs []Case
	for _, section := range []func() []Case{webCalibrationCases, webRequestCases, webCallbackCases, webIDTokenCases,
		webSessionCases, webRedirectCases, webTokenCases, webKeyRotationCases} {
		cs = append(cs, section()...)
	}
	return cs
}

// Helpers shared by the web sections.

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// webSignedIn signs b in from path and checks it is signed in as its AZ
// user; the check's exchange is the judged one. Failures of the target are
// recorded (the case then fails); ok says the case has recorded none, so
// it can go on; err is a harness fault.
func webSignedIn(ctx context.Context, e *kit.Env, b *kit.Browser, path string) (kit.SignInSteps, bool, error) {
	wc, err := e.WebClient()
	if err != nil {
		return kit.SignInSteps{}, false, err
	}
	st, ok, err := b.SignIn(ctx, path)
	if err != nil || !ok {
		return st, false, err
	}
	if st.Done.Error != "" || st.Done.Status >= 400 {
		e.Observation().Failf("precondition: the callback of a valid sign-in got %s", st.Done.Brief())
		kit.MarkJudged(e, st.Done)
		return st, false, nil
	}
	sub, x := b.WhoAmI(ctx, "signed in?")
	e.Observation().Judge()
	want := fakeaz.WebSubject(wc.ClientID, b.User)
	if x.Status == http.StatusOK && sub != want {
		e.Observation().Failf("signed in as %q, want the id token's sub %q", sub, want)
	}
	if x.Status != http.StatusOK {
		e.Observation().Failf("precondition: after a valid sign-in /web/protected got %s, want 200 {\"user\": …}", x.Brief())
	}
	return st, len(e.Observation().Failures) == 0, nil
}

// notSignedIn checks b is not signed in (as forbidden, or as anyone when
// forbidden is "").
func notSignedIn(ctx context.Context, e *kit.Env, b *kit.Browser, forbidden string) {
	sub, _ := b.WhoAmI(ctx, "signed in?")
	switch {
	case sub == "":
	case forbidden == "":
		e.Observation().Failf("the browser is signed in (as %s) after a sign-in that must be refused", sub)
	case sub == forbidden:
		e.Observation().Failf("the victim's browser is signed in as the attacker (%s)", sub)
	}
}

func setScenario(e *kit.Env, wc fakeaz.WebClient, sc fakeaz.WebScenario) error {
	if err := e.AZ().SetWebScenario(wc.ClientID, sc); err != nil {
		return fmt.Errorf("%w: web scenario: %w", kit.ErrSetup, err)
	}
	e.Defer(func() { _ = e.AZ().SetWebScenario(wc.ClientID, fakeaz.WebScenario{}) })
	return nil
}

// refusedSignIn completes c as a web case whose sign-in must be refused
// (webRefused).
func refusedSignIn(c Case) Case {
	c.Area, c.Families, c.Expect = "web", webFamily, webRefused
	return c
}
