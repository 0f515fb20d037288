package conformance

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

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
var webRefused = split(exp(Must, NotOK), exp(Must, Rejected))

// webFamily marks the cases of the web family.
var webFamily = []Family{FamilyWeb, FamilyWebAppID}

func webCase(id, title, rule string, refs []string, e map[Profile]Expect, doc string, fn func(context.Context, *Env) error, needs ...Need) Case {
	return Case{ID: id, Area: "web", Title: title, Rule: rule, Refs: refs, Expect: e, Needs: needs, Families: webFamily,
		Recipe: Procedure{Doc: doc, Fn: fn}}
}

// webCalibrationCases must pass before any other web case runs.
func webCalibrationCases() []Case {
	cal := func(id, title, rule string, e map[Profile]Expect, doc string, fn func(context.Context, *Env) error) Case {
		return Case{ID: id, Area: "calibration", Title: title, Rule: rule, Refs: []string{refWebRoutes, refWebContract}, Expect: e,
			Families: webFamily, Recipe: Procedure{Doc: doc, Fn: fn}}
	}
	return []Case{
		cal("CAL-101", "A signed-out browser is sent to the authorization endpoint",
			"GET /web/protected from a signed-out browser MUST redirect to MCA_AUTHORIZATION_ENDPOINT.",
			same(Must, NotOK), "a fresh browser opens /web/protected; the answer must redirect to the authorization endpoint",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				st, _ := b.StartSignIn(ctx, "/web/protected")
				markJudged(e, st.Start)
				return nil
			}),
		cal("CAL-102", "A browser signs in and sees its identity",
			"A browser that goes through the AZ MUST come back signed in: /web/protected answers 200 {\"user\": {\"sub\": …}} with the id token's sub.",
			same(Must, Accepted), "a fresh browser (AZ user victim) opens /web/protected, follows the redirects through the AZ and the callback, then opens /web/protected",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				_, err = webSignedIn(ctx, e, b, "/web/protected")
				return err
			}),
		cal("CAL-103", "A made-up callback is refused",
			"GET /web/callback with a state and a code the target never issued MUST NOT sign the browser in, and MUST be answered (no 2xx, no hang, no crash).",
			same(Must, NotOK), "a fresh browser opens /web/callback?state=<random>&code=<random>",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				b.Visit(ctx, "callback", b.Target("/web/callback?state="+randomToken()+"&code="+randomToken()))
				e.obs.Judge()
				notSignedIn(ctx, e, b, "")
				return nil
			}),
	}
}

// webCases is the web area (and its calibration cases).
func webCases() []Case {
	cs := webCalibrationCases()
	cs = append(cs,
		// ---- the authorization request ----
		webCase("WEB-001", "The authorization request carries a state",
			"The redirect to the authorization endpoint MUST carry a state parameter bound to the browser (or the sign-in is open to login CSRF).",
			[]string{refCSRF, refBCPCSRF}, same(Must, NotOK),
			"a fresh browser opens /web/protected; the authorization request must have a non-empty state",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				st, ok := b.StartSignIn(ctx, "/web/protected")
				markJudged(e, st.Start)
				if ok && st.AuthRequest.Query().Get("state") == "" {
					e.obs.Failf("the authorization request has no state: %s", st.AuthRequest)
				}
				return nil
			}),
		webCase("WEB-002", "The state is unguessable and fresh per sign-in",
			"The state MUST hold at least 128 bits of randomness and MUST differ between sign-ins.",
			[]string{refEntropy, refCSRF}, same(Must, NotOK),
			"two browsers open /web/protected; the two states must differ and each be at least 128 bits by its alphabet and length",
			func(ctx context.Context, e *Env) error {
				var states []string
				for _, n := range []string{"victim", "other"} {
					b, err := e.NewBrowser(n, n)
					if err != nil {
						return err
					}
					st, ok := b.StartSignIn(ctx, "/web/protected")
					if !ok {
						return nil
					}
					states = append(states, st.AuthRequest.Query().Get("state"))
				}
				e.obs.Judge()
				for _, s := range states {
					bits := entropyBits(s)
					e.obs.Fact("state bits", "%.0f", bits)
					if bits < 128 {
						e.obs.Failf("state %q holds at most %.0f bits (want 128)", s, bits)
					}
				}
				if states[0] == states[1] {
					e.obs.Failf("two sign-ins got the same state %q", states[0])
				}
				return nil
			}),
		webCase("WEB-003", "The authorization request carries a nonce",
			"The authorization request SHOULD carry a nonce, which the id token must echo (replay of an id token).",
			[]string{refNonce}, split(exp(Info, Observed), exp(Should, NotOK)),
			"a fresh browser opens /web/protected; the authorization request should have a nonce",
			func(ctx context.Context, e *Env) error {
				return authRequestCheck(ctx, e, func(q url.Values) string {
					if q.Get("nonce") == "" {
						return "the authorization request has no nonce"
					}
					return ""
				})
			}),
		webCase("WEB-004", "The authorization request uses PKCE with S256",
			"The authorization request SHOULD carry a code_challenge with code_challenge_method=S256.",
			[]string{refBCPPKCE, refPKCE}, split(exp(Info, Observed), exp(Should, NotOK)),
			"a fresh browser opens /web/protected; the authorization request should have code_challenge and code_challenge_method=S256",
			func(ctx context.Context, e *Env) error {
				return authRequestCheck(ctx, e, func(q url.Values) string {
					switch {
					case q.Get("code_challenge") == "":
						return "the authorization request has no code_challenge (no PKCE)"
					case q.Get("code_challenge_method") != "S256":
						return fmt.Sprintf("code_challenge_method is %q, not S256", q.Get("code_challenge_method"))
					}
					return ""
				})
			}),
		webCase("WEB-005", "The authorization request names the client and the callback exactly",
			"The authorization request MUST have response_type=code, the web client's client_id and redirect_uri equal to MCA_CALLBACK_URL, byte for byte once decoded.",
			[]string{refRedirectURI, refWebContract}, same(Must, NotOK),
			"a fresh browser opens /web/protected; response_type, client_id and redirect_uri are compared with the contract",
			func(ctx context.Context, e *Env) error {
				wc, err := e.WebClient()
				if err != nil {
					return err
				}
				return authRequestCheck(ctx, e, func(q url.Values) string {
					var bad []string
					if q.Get("response_type") != "code" {
						bad = append(bad, fmt.Sprintf("response_type %q (want code)", q.Get("response_type")))
					}
					if q.Get("client_id") != wc.ClientID {
						bad = append(bad, fmt.Sprintf("client_id %q (want %q)", q.Get("client_id"), wc.ClientID))
					}
					if q.Get("redirect_uri") != wc.RedirectURIs[0] {
						bad = append(bad, fmt.Sprintf("redirect_uri %q (want %q)", q.Get("redirect_uri"), wc.RedirectURIs[0]))
					}
					return strings.Join(bad, "; ")
				})
			}),

		// ---- the callback ----
		webCase("WEB-101", "A callback without state is refused",
			"A callback without state MUST NOT sign the browser in.",
			[]string{refCSRF, refBCPCSRF}, webRefused,
			"the browser signs in, but the AZ's redirect back loses its state parameter",
			tamperedCallback(func(q url.Values) { q.Del("state") })),
		webCase("WEB-102", "A callback with a forged state is refused",
			"A callback whose state is not the one this browser's sign-in was started with MUST NOT sign the browser in.",
			[]string{refCSRF, refBCPCSRF}, webRefused,
			"the browser signs in, but the state of the AZ's redirect back is replaced by a random one (the code is genuine)",
			tamperedCallback(func(q url.Values) { q.Set("state", randomToken()) })),
		webCase("WEB-103", "A state is single-use",
			"A state MUST be accepted once: a second callback with a state already used MUST be refused.",
			[]string{refBCPCSRF}, webRefused,
			"a browser signs in (state A), signs out, starts a new sign-in (state B) and comes back with B's code and A's state",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				first, err := webSignedIn(ctx, e, b, "/web/protected")
				if err != nil || first.Callback == nil || len(e.obs.Failures) > 0 {
					return err
				}
				b.Visit(ctx, "logout", b.Target("/web/logout"))
				st, ok := b.StartSignIn(ctx, "/web/protected")
				if !ok {
					return nil
				}
				if err := b.Authorize(ctx, &st); err != nil || st.Callback == nil {
					return err
				}
				q := st.Callback.Query()
				q.Set("state", first.Callback.Query().Get("state"))
				u := *st.Callback
				u.RawQuery = q.Encode()
				var replay SignInSteps
				b.Complete(ctx, &replay, u.String())
				notSignedIn(ctx, e, b, "")
				return nil
			}),
		webCase("WEB-104", "Login CSRF: an attacker's callback does not sign the victim in",
			"A callback carrying an attacker's code and state, opened in the victim's browser, MUST NOT sign the victim in as the attacker.",
			[]string{refCSRF, refBCPCSRF, "RFC 6819 §4.4.1.8 (CSRF attack against redirect-uri)"}, webRefused,
			"the attacker's browser (AZ user mallory) gets a callback URL from the AZ and stops; the victim's browser (AZ user victim), with a sign-in of its own pending, opens that URL",
			func(ctx context.Context, e *Env) error {
				wc, err := e.WebClient()
				if err != nil {
					return err
				}
				att, err := e.NewBrowser("attacker", "mallory")
				if err != nil {
					return err
				}
				vic, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				ast, ok := att.StartSignIn(ctx, "/web/protected")
				if !ok {
					return nil
				}
				if err := att.Authorize(ctx, &ast); err != nil || ast.Callback == nil {
					return err
				}
				if _, ok := vic.StartSignIn(ctx, "/web/protected"); !ok {
					return nil
				}
				var st SignInSteps
				vic.Complete(ctx, &st, ast.Callback.String())
				notSignedIn(ctx, e, vic, fakeaz.WebSubject(wc.ClientID, "mallory"))
				return nil
			}),
		webCase("WEB-105", "A callback without code is refused",
			"A callback with the right state but no code (and no error) MUST NOT sign the browser in, and MUST be answered without a 5xx in strict.",
			[]string{"RFC 6749 §4.1.2 (the authorization response carries code)", refWebRoutes}, webRefused,
			"the browser signs in, but the AZ's redirect back loses its code parameter",
			tamperedCallback(func(q url.Values) { q.Del("code") })),
		webCase("WEB-106", "access_denied is a refused sign-in",
			"A callback with error=access_denied MUST NOT sign the browser in, and MUST be answered without a 5xx in strict.",
			[]string{refAuthzError, refWebRoutes}, webRefused,
			"the AZ answers the authorization request with error=access_denied (and the state)",
			scenarioSignIn(fakeaz.WebScenario{Deny: "access_denied"}, nil)),
		webCase("WEB-107", "A used code is refused without a crash",
			"A callback with a code that was already redeemed MUST NOT sign the browser in: the AZ refuses the code (invalid_grant) and the target MUST answer that as a refused sign-in.",
			[]string{refCodeOnce, refTokenFault}, webRefused,
			"the victim signs in; a second browser starts a sign-in and comes back with the victim's (used) code and its own state",
			func(ctx context.Context, e *Env) error {
				vic, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				st, err := webSignedIn(ctx, e, vic, "/web/protected")
				if err != nil || st.Callback == nil || len(e.obs.Failures) > 0 {
					return err
				}
				other, err := e.NewBrowser("other", "other")
				if err != nil {
					return err
				}
				ost, ok := other.StartSignIn(ctx, "/web/protected")
				if !ok {
					return nil
				}
				u := *st.Callback
				q := u.Query()
				q.Set("state", ost.AuthRequest.Query().Get("state"))
				u.RawQuery = q.Encode()
				var replay SignInSteps
				other.Complete(ctx, &replay, u.String())
				notSignedIn(ctx, e, other, "")
				return nil
			}),

		// ---- the id token (the OpenID Foundation's rp-id_token-* tests) ----
		idTokenCase("WEB-201", fakeaz.WebIDTokenForged, "An id token signed by another key is refused",
			"An id token whose RS256 signature was made by a key the AZ never published MUST be refused.",
			"OIDC Core §3.1.3.7 item 6 (OIDF RP test rp-id_token-bad-sig-rs256)"),
		idTokenCase("WEB-202", fakeaz.WebIDTokenAlgNone, "An unsigned id token (alg none) is refused",
			"An id token with alg none MUST be refused (the client never registered for unsigned id tokens).",
			"OIDC Core §3.1.3.7 item 7 (OIDF RP test rp-id_token-sig-none, which this client must refuse)", "RFC 8725 §3.1 (algorithm verification)"),
		idTokenCase("WEB-203", fakeaz.WebIDTokenHS256, "An id token HMAC-signed with the AZ's public key is refused",
			"An id token with alg HS256 whose HMAC key is the AZ's public key MUST be refused (algorithm confusion).",
			"RFC 8725 §2.1 (weak signatures and algorithm confusion)", "OIDC Core §3.1.3.7 item 8 (OIDF RP test rp-id_token-bad-sig-hs256)"),
		idTokenCase("WEB-204", fakeaz.WebIDTokenWrongIss, "An id token from another issuer is refused",
			"An id token whose iss is not the AZ (MCA_SERVER_URL) MUST be refused.",
			"OIDC Core §3.1.3.7 item 2 (OIDF RP test rp-id_token-issuer-mismatch)"),
		idTokenCase("WEB-205", fakeaz.WebIDTokenWrongAud, "An id token for another audience is refused",
			"An id token whose aud is not the app id MUST be refused.",
			"OIDC Core §3.1.3.7 item 3 (OIDF RP test rp-id_token-aud)"),
		idTokenCase("WEB-206", fakeaz.WebIDTokenNoSub, "An id token without sub is refused",
			"An id token without sub MUST be refused: there is nobody to sign in.",
			refIDTClaims+" (OIDF RP test rp-id_token-sub)"),
		idTokenCase("WEB-207", fakeaz.WebIDTokenNoIat, "An id token without iat is refused",
			"An id token without iat MUST be refused.",
			refIDTClaims+" (OIDF RP test rp-id_token-iat)", "OIDC Core §3.1.3.7 item 10 (iat)"),
		idTokenCase("WEB-208", fakeaz.WebIDTokenExpired, "An expired id token is refused",
			"An id token whose exp passed (an hour ago) MUST be refused.",
			"OIDC Core §3.1.3.7 item 9 (exp)"),
		idTokenCase("WEB-209", fakeaz.WebIDTokenNoExp, "An id token without exp is refused",
			"An id token without exp MUST be refused: it would never expire.",
			refIDTClaims, "OIDC Core §3.1.3.7 item 9 (exp)"),
		idTokenCase("WEB-210", fakeaz.WebIDTokenWrongNonce, "An id token with another nonce is refused",
			"An id token whose nonce is not the one of the authorization request MUST be refused (when the target sent a nonce).",
			refNonce),
		idTokenCase("WEB-211", fakeaz.WebIDTokenUnknownKid, "An id token naming an unknown key is refused",
			"An id token whose kid names no key of the AZ, signed by that unknown key, MUST be refused.",
			"OIDC Core §10.1.1 (signing keys: kid)", "OIDC Core §3.1.3.7 item 6"),
		idTokenCase("WEB-212", fakeaz.WebIDTokenBadSig, "An id token with a damaged signature is refused",
			"An id token whose RS256 signature has one bit flipped MUST be refused.",
			"OIDC Core §3.1.3.7 item 6 (OIDF RP test rp-id_token-bad-sig-rs256)"),
		// ---- the session ----
		webCase("WEB-301", "The session id changes at sign-in (fixation)",
			"Cookies the target set before the sign-in MUST NOT be signed in afterwards: an attacker who planted them in the victim's browser must not share the victim's session.",
			[]string{refFixation}, same(Must, NotOK),
			"the attacker opens /web/protected and keeps the cookies the target sets; they are planted in the victim's browser, which signs in; the attacker then opens /web/protected with those cookies",
			func(ctx context.Context, e *Env) error {
				att, err := e.NewBrowser("attacker", "mallory")
				if err != nil {
					return err
				}
				if _, ok := att.StartSignIn(ctx, "/web/protected"); !ok {
					return nil
				}
				planted := att.Cookies()
				e.obs.Fact("planted cookies", "%d", len(planted))
				vic, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				vic.Plant(planted)
				sub, err := webSignedIn(ctx, e, vic, "/web/protected")
				if err != nil || len(e.obs.Failures) > 0 || sub.Callback == nil {
					return err
				}
				got, _ := att.WhoAmI(ctx, "with the planted cookies")
				e.obs.Judge()
				if got != "" {
					e.obs.Failf("session fixation: the attacker's pre-sign-in cookies are signed in as %s after the victim signed in", got)
				}
				return nil
			}),
		webCase("WEB-302", "The session does not outlive the tokens",
			"A session MUST end no later than the tokens it was made from (the id token's exp, expires_in).",
			[]string{refIDTValid, refWebContract}, split(exp(Should, NotOK), exp(Must, NotOK)),
			"the AZ issues tokens that live 3 s; the browser signs in, waits 5 s, then opens /web/protected",
			func(ctx context.Context, e *Env) error {
				wc, err := e.WebClient()
				if err != nil {
					return err
				}
				if err := setScenario(e, wc, fakeaz.WebScenario{TokenLifetime: fakeaz.Duration(3 * time.Second)}); err != nil {
					return err
				}
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				start := time.Now()
				if _, err := webSignedIn(ctx, e, b, "/web/protected"); err != nil || len(e.obs.Failures) > 0 {
					return err
				}
				if err := sleepUntil(ctx, start.Add(5*time.Second)); err != nil {
					return fmt.Errorf("%w: %w", ErrSetup, err)
				}
				notSignedIn(ctx, e, b, "")
				e.obs.Judge()
				return nil
			}),
		webCase("WEB-303", "Logout ends the session on the server",
			"After GET /web/logout, the session's cookies MUST NOT be signed in any more, even when a browser sends them again.",
			[]string{refLogout, refWebRoutes}, same(Must, NotOK),
			"the browser signs in and its cookies are saved; it opens /web/logout; a fresh browser with the saved cookies opens /web/protected",
			func(ctx context.Context, e *Env) error {
				b, err := e.NewBrowser("victim", "victim")
				if err != nil {
					return err
				}
				if _, err := webSignedIn(ctx, e, b, "/web/protected"); err != nil || len(e.obs.Failures) > 0 {
					return err
				}
				saved := b.Cookies()
				b.Visit(ctx, "logout", b.Target("/web/logout"))
				replay, err := e.NewBrowser("replay", "victim")
				if err != nil {
					return err
				}
				replay.Plant(saved)
				notSignedIn(ctx, e, replay, "")
				e.obs.Judge()
				return nil
			}),

		// ---- redirects ----
		openRedirectCase("WEB-401", "//evil.example/landing", "a path that is a scheme-relative URL once the mount point is cut (//evil.example/…)"),
		openRedirectCase("WEB-402", "/%2F%2Fevil.example/landing", "an encoded scheme-relative URL (%2F%2Fevil.example/…)"),
		openRedirectCase("WEB-403", `/%5Cevil.example/landing`, `a backslash browsers read as a slash (/\evil.example/…)`),

		// ---- token endpoint faults ----
		tokenFaultCase("WEB-501", "The token endpoint answers 500",
			"a 500 with a JSON error", &fakeaz.FaultSpec{Status: 500, Body: `{"error":"server_error","error_description":"mcaspec fault"}`}, fakeaz.WebScenario{}),
		tokenFaultCase("WEB-502", "The token endpoint answers HTML",
			"a 200 with an HTML page (not JSON)", &fakeaz.FaultSpec{Status: 200, Body: "<html><body>Service Unavailable</body></html>", ContentType: "text/html"}, fakeaz.WebScenario{}),
		tokenFaultCase("WEB-503", "The token endpoint answers without id_token",
			"a 200 JSON token response without id_token", nil, fakeaz.WebScenario{OmitIDToken: true}),
		tokenFaultCase("WEB-504", "The token endpoint hangs",
			"no answer at all (the request is held until the case ends, then answered 504)", &fakeaz.FaultSpec{Hang: true, Status: 504, Body: `{"error":"temporarily_unavailable"}`}, fakeaz.WebScenario{}),
		tokenFaultCase("WEB-505", "The token endpoint resets the connection",
			"the connection closed without an answer", nil, fakeaz.WebScenario{Reset: true}),

		// Last: once the key is rotated, a target that does not follow it
		// can sign nobody in, and every later case would fail for that.
		webCase("WEB-213", "A rotated AZ key is followed",
			"After the AZ rotates its signing key, the next sign-in (id token signed by the new key) MUST succeed.",
			[]string{refKeyRotation + " (OIDF RP test rp-key-rotation-op-sign-key)"}, same(Must, Accepted),
			"a browser signs in (the target learns the key); the AZ rotates the app's key (the old one retired at once); a second browser signs in",
			func(ctx context.Context, e *Env) error {
				first, err := e.NewBrowser("first", "victim")
				if err != nil {
					return err
				}
				if _, err := webSignedIn(ctx, e, first, "/web/protected"); err != nil || len(e.obs.Failures) > 0 {
					return err
				}
				if err := e.AZ().RotateKey(e.r.HomeAppID, 0); err != nil {
					return fmt.Errorf("%w: rotate the key: %w", ErrSetup, err)
				}
				second, err := e.NewBrowser("second", "victim")
				if err != nil {
					return err
				}
				_, err = webSignedIn(ctx, e, second, "/web/protected")
				return err
			}, NeedAZControl),
	)
	return cs
}

// ---- procedures ----

// markJudged marks x as the judged exchange (the last one with its step and URL).
func markJudged(e *Env, x Exchange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.obs.Exchanges) - 1; i >= 0; i-- {
		if e.obs.Exchanges[i].Step == x.Step && e.obs.Exchanges[i].URL == x.URL {
			e.obs.JudgedIndex = &i
			return
		}
	}
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// entropyBits bounds the randomness of s by its length and the smallest
// usual alphabet holding all its characters.
func entropyBits(s string) float64 {
	alpha := 10.0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f' && alpha <= 16:
			alpha = 16
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			alpha = max(alpha, 62)
		default:
			alpha = 64
		}
	}
	return float64(len(s)) * math.Log2(alpha)
}

// authRequestCheck starts a sign-in and checks its authorization request;
// the target's redirect is the judged exchange.
func authRequestCheck(ctx context.Context, e *Env, check func(url.Values) string) error {
	b, err := e.NewBrowser("victim", "victim")
	if err != nil {
		return err
	}
	st, ok := b.StartSignIn(ctx, "/web/protected")
	markJudged(e, st.Start)
	if !ok {
		return nil
	}
	e.obs.Fact("authorization request", "%s", st.AuthRequest)
	if why := check(st.AuthRequest.Query()); why != "" {
		e.obs.Failf("%s", why)
	}
	return nil
}

// webSignedIn signs b in from path and checks it is signed in as its AZ
// user; the check's exchange is the judged one. Failures of the target are
// recorded (the case then fails); err is a harness fault.
func webSignedIn(ctx context.Context, e *Env, b *Browser, path string) (SignInSteps, error) {
	wc, err := e.WebClient()
	if err != nil {
		return SignInSteps{}, err
	}
	st, ok, err := b.SignIn(ctx, path)
	if err != nil || !ok {
		return st, err
	}
	if st.Done.Error != "" || st.Done.Status >= 400 {
		e.obs.Failf("precondition: the callback of a valid sign-in got %s", st.Done.Brief())
		markJudged(e, st.Done)
		return st, nil
	}
	sub, x := b.WhoAmI(ctx, "signed in?")
	e.obs.Judge()
	want := fakeaz.WebSubject(wc.ClientID, b.User)
	if x.Status == http.StatusOK && sub != want {
		e.obs.Failf("signed in as %q, want the id token's sub %q", sub, want)
	}
	if x.Status != http.StatusOK {
		e.obs.Failf("precondition: after a valid sign-in /web/protected got %s, want 200 {\"user\": …}", x.Brief())
	}
	return st, nil
}

// notSignedIn checks b is not signed in (as forbidden, or as anyone when
// forbidden is "").
func notSignedIn(ctx context.Context, e *Env, b *Browser, forbidden string) {
	sub, _ := b.WhoAmI(ctx, "signed in?")
	switch {
	case sub == "":
	case forbidden == "":
		e.obs.Failf("the browser is signed in (as %s) after a sign-in that must be refused", sub)
	case sub == forbidden:
		e.obs.Failf("the victim's browser is signed in as the attacker (%s)", sub)
	}
}

// tamperedCallback signs a browser in but edits the AZ's redirect back
// before the browser follows it.
func tamperedCallback(edit func(url.Values)) func(context.Context, *Env) error {
	return func(ctx context.Context, e *Env) error {
		b, err := e.NewBrowser("victim", "victim")
		if err != nil {
			return err
		}
		st, ok := b.StartSignIn(ctx, "/web/protected")
		if !ok {
			return nil
		}
		if err := b.Authorize(ctx, &st); err != nil || st.Callback == nil {
			return err
		}
		u := *st.Callback
		q := u.Query()
		edit(q)
		u.RawQuery = q.Encode()
		b.Complete(ctx, &st, u.String())
		markJudged(e, st.Done)
		notSignedIn(ctx, e, b, "")
		return nil
	}
}

func setScenario(e *Env, wc fakeaz.WebClient, sc fakeaz.WebScenario) error {
	if err := e.AZ().SetWebScenario(wc.ClientID, sc); err != nil {
		return fmt.Errorf("%w: web scenario: %w", ErrSetup, err)
	}
	e.Defer(func() { _ = e.AZ().SetWebScenario(wc.ClientID, fakeaz.WebScenario{}) })
	return nil
}

// scenarioSignIn runs a sign-in with the AZ misbehaving (a scenario, a
// fault on the token endpoint): the callback is judged, and the browser
// must not be signed in.
func scenarioSignIn(sc fakeaz.WebScenario, fault *fakeaz.FaultSpec) func(context.Context, *Env) error {
	return func(ctx context.Context, e *Env) error {
		wc, err := e.WebClient()
		if err != nil {
			return err
		}
		if err := setScenario(e, wc, sc); err != nil {
			return err
		}
		if fault != nil {
			f := *fault
			f.Endpoint, f.AppID = e.AZ().WebTokenEndpoint(e.r.HomeAppID), e.r.HomeAppID
			if err := e.AZ().SetFault(f); err != nil {
				return fmt.Errorf("%w: fault: %w", ErrSetup, err)
			}
			e.Defer(e.AZ().ClearFaults)
		}
		b, err := e.NewBrowser("victim", "victim")
		if err != nil {
			return err
		}
		st, ok, err := b.SignIn(ctx, "/web/protected")
		if err != nil || !ok {
			return err
		}
		markJudged(e, st.Done)
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
	}
}

func idTokenCase(id, fault, title, rule string, refs ...string) Case {
	return webCase(id, title, rule, append(refs, refIDTValid), webRefused,
		"the AZ's token endpoint answers an id token broken as "+fault+" (fakeaz web scenario idTokenFault); the browser signs in; the callback must be refused and the browser not signed in",
		scenarioSignIn(fakeaz.WebScenario{IDTokenFault: fault}, nil))
}

func tokenFaultCase(id, title, what string, fault *fakeaz.FaultSpec, sc fakeaz.WebScenario) Case {
	return webCase(id, title,
		"When the token endpoint fails ("+what+"), the callback MUST be answered within the bound as a refused sign-in (a 4xx in strict), never signed in, never a hang or a crash.",
		[]string{refTokenFault, refWebRoutes, refAZWeb}, webRefused,
		"the AZ's token endpoint gives "+what+"; the browser signs in; the callback is judged",
		scenarioSignIn(sc, fault))
}

func openRedirectCase(id, below, what string) Case {
	return webCase(id, "The page remembered for after the sign-in stays on the site: "+what,
		"The redirect after the sign-in MUST stay on the target's site, whatever path below /web/protected the browser first asked for.",
		[]string{refOpenRedir, refWebRoutes}, same(Must, Observed),
		"the browser opens /web/protected"+below+" and signs in; the callback's Location must not lead to another site",
		func(ctx context.Context, e *Env) error {
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
		})
}
