package conformance

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family's authorization request (WEB-0xx): what the target sends
// the browser to the AZ with.
func webRequestCases() []Case {
	return []Case{
		{ID: "WEB-001", Area: "web", Title: "The authorization request carries a state",
			Rule: "The redirect to the authorization endpoint MUST carry a state parameter bound to the browser (or the sign-in is open to login CSRF).",
			Refs: []string{refCSRF, refBCPCSRF}, Expect: same(Must, kit.NotOK), Families: webFamily,
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/protected; the authorization request must have a non-empty state", Fn: asVictim(requestHasState)}},
		{ID: "WEB-002", Area: "web", Title: "The state is unguessable and fresh per sign-in",
			Rule: "The state MUST hold at least 128 bits of randomness and MUST differ between sign-ins.",
			Refs: []string{refEntropy, refCSRF}, Expect: same(Must, kit.NotOK), Families: webFamily,
			Recipe: kit.Procedure{Doc: "two browsers open /web/protected; the two states must differ and each be at least 128 bits by its alphabet and length", Fn: stateIsFresh}},
		{ID: "WEB-003", Area: "web", Title: "The authorization request carries a nonce",
			Rule: "The authorization request SHOULD carry a nonce, which the id token must echo (replay of an id token).",
			Refs: []string{refNonce}, Expect: split(exp(Info, kit.Observed), exp(Should, kit.NotOK)), Families: webFamily,
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/protected; the authorization request should have a nonce", Fn: asVictim(requestHasNonce)}},
		{ID: "WEB-004", Area: "web", Title: "The authorization request uses PKCE with S256",
			Rule: "The authorization request SHOULD carry a code_challenge with code_challenge_method=S256.",
			Refs: []string{refBCPPKCE, refPKCE}, Expect: split(exp(Info, kit.Observed), exp(Should, kit.NotOK)), Families: webFamily,
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/protected; the authorization request should have code_challenge and code_challenge_method=S256", Fn: asVictim(requestHasPKCE)}},
		{ID: "WEB-005", Area: "web", Title: "The authorization request names the client and the callback exactly",
			Rule: "The authorization request MUST have response_type=code, the web client's client_id and redirect_uri equal to MCA_CALLBACK_URL, byte for byte once decoded.",
			Refs: []string{refRedirectURI, refWebContract}, Expect: same(Must, kit.NotOK), Families: webFamily,
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/protected; response_type, client_id and redirect_uri are compared with the contract", Fn: asVictim(requestNamesClient)}},
		{ID: "WEB-006", Area: "web", Title: "A callback URL with a query string of its own is sent exactly",
			Rule:   "When MCA_CALLBACK_URL carries a query string with characters that need encoding (" + callbackQuery + "), the authorization request's redirect_uri MUST equal it byte for byte once decoded, and the sign-in MUST work.",
			Refs:   []string{refRedirectURI, "RFC 6749 §3.1.2 (the redirection endpoint URI MAY include a query component, which MUST be retained)", "RFC 9700 §4.1.3 (exact redirect URI matching)", refWebContract},
			Expect: same(Must, kit.Observed), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the harness registers the callback URL with " + callbackQuery + " appended at the AZ and restarts the target with it as MCA_CALLBACK_URL (SKIPPED for --target URL); a browser signs in; the redirect_uri must be that URL and the browser signed in", Fn: asVictim(callbackWithQuery)}},
	}
}

// callbackQuery is the query string WEB-006 gives the callback URL: a "&"
// that a URL pasted raw into the authorization request splits, and a "%2B"
// that encodeURI turns into "%252B".
const callbackQuery = "?tenant=a%2Bb&x=1"

func callbackWithQuery(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	if e.Kit().Relaunch == nil {
		return Skip("the harness cannot restart this target with another MCA_CALLBACK_URL (a --target URL): run it with --target-cmd")
	}
	wc, err := e.WebClient()
	if err != nil {
		return err
	}
	orig := wc.RedirectURIs[0]
	cb := orig + callbackQuery
	if err := registerCallbacks(e, wc, orig, cb); err != nil {
		return err
	}
	e.Defer(func() { _ = registerCallbacks(e, wc, orig) })
	if err := e.Kit().Relaunch(ctx, cb); err != nil {
		return fmt.Errorf("%w: restart the target with MCA_CALLBACK_URL=%s: %w", kit.ErrSetup, cb, err)
	}
	e.Defer(func() { _ = e.Kit().Relaunch(context.Background(), orig) })
	st, ok := startJudged(ctx, e, b)
	if !ok {
		return nil
	}
	if got := st.AuthRequest.Query().Get("redirect_uri"); got != cb {
		e.Observation().Failf("redirect_uri %q, want MCA_CALLBACK_URL %q byte for byte (the AZ refuses any other)", got, cb)
		return nil
	}
	if err := b.Authorize(ctx, &st); err != nil || st.Callback == nil {
		return err
	}
	b.Complete(ctx, &st, st.Callback.String())
	if sub, x := b.WhoAmI(ctx, "signed in?"); sub == "" {
		kit.MarkJudged(e, x)
		e.Observation().Failf("with a callback URL that has a query string, the sign-in did not work: the callback got %s", st.Done.Brief())
	}
	return nil
}

// registerCallbacks sets the redirect URIs of the target's web client.
func registerCallbacks(e *kit.Env, wc fakeaz.WebClient, uris ...string) error {
	if err := e.AZ().RemoveWebClient(wc.ClientID); err != nil {
		return fmt.Errorf("%w: web client: %w", kit.ErrSetup, err)
	}
	wc.RedirectURIs = uris
	if _, err := e.AZ().AddWebClient(wc); err != nil {
		return fmt.Errorf("%w: web client: %w", kit.ErrSetup, err)
	}
	return nil
}

func requestHasState(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	st, ok := startJudged(ctx, e, b)
	if ok && st.AuthRequest.Query().Get("state") == "" {
		e.Observation().Failf("the authorization request has no state: %s", st.AuthRequest)
	}
	return nil
}

func stateIsFresh(ctx context.Context, e *kit.Env) error {
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
	e.Observation().Judge()
	for _, s := range states {
		bits := entropyBits(s)
		e.Observation().Fact("state bits", "%.0f", bits)
		if bits < 128 {
			e.Observation().Failf("state %q holds at most %.0f bits (want 128)", s, bits)
		}
	}
	if states[0] == states[1] {
		e.Observation().Failf("two sign-ins got the same state %q", states[0])
	}
	return nil
}

func requestHasNonce(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	return authRequestCheck(ctx, e, b, func(q url.Values) string {
		if q.Get("nonce") == "" {
			return "the authorization request has no nonce"
		}
		return ""
	})
}

func requestHasPKCE(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	return authRequestCheck(ctx, e, b, func(q url.Values) string {
		switch {
		case q.Get("code_challenge") == "":
			return "the authorization request has no code_challenge (no PKCE)"
		case q.Get("code_challenge_method") != "S256":
			return fmt.Sprintf("code_challenge_method is %q, not S256", q.Get("code_challenge_method"))
		}
		return ""
	})
}

func requestNamesClient(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	wc, err := e.WebClient()
	if err != nil {
		return err
	}
	return authRequestCheck(ctx, e, b, func(q url.Values) string {
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
func authRequestCheck(ctx context.Context, e *kit.Env, b *kit.Browser, check func(url.Values) string) error {
	st, ok := startJudged(ctx, e, b)
	if !ok {
		return nil
	}
	e.Observation().Fact("authorization request", "%s", st.AuthRequest)
	if why := check(st.AuthRequest.Query()); why != "" {
		e.Observation().Failf("%s", why)
	}
	return nil
}
