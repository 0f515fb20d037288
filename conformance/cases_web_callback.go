package conformance

import (
	"context"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family's callback (WEB-1xx): what the target does with the AZ's
// redirect back, genuine, tampered with or replayed.
func webCallbackCases() []Case {
	return []Case{
		refusedSignIn(Case{ID: "WEB-101", Title: "A callback without state is refused",
			Rule:   "A callback without state MUST NOT sign the browser in.",
			Refs:   []string{refCSRF, refBCPCSRF},
			Recipe: kit.Procedure{Doc: "the browser signs in, but the AZ's redirect back loses its state parameter", Fn: tamperedCallback(func(q url.Values) { q.Del("state") })}}),
		refusedSignIn(Case{ID: "WEB-102", Title: "A callback with a forged state is refused",
			Rule:   "A callback whose state is not the one this browser's sign-in was started with MUST NOT sign the browser in.",
			Refs:   []string{refCSRF, refBCPCSRF},
			Recipe: kit.Procedure{Doc: "the browser signs in, but the state of the AZ's redirect back is replaced by a random one (the code is genuine)", Fn: tamperedCallback(func(q url.Values) { q.Set("state", randomToken()) })}}),
		refusedSignIn(Case{ID: "WEB-103", Title: "A state is single-use",
			Rule:   "A state MUST be accepted once: a second callback with a state already used MUST be refused.",
			Refs:   []string{refBCPCSRF},
			Recipe: kit.Procedure{Doc: "a browser signs in (state A), signs out, starts a new sign-in (state B) and comes back with B's code and A's state", Fn: asVictim(stateReplayed)}}),
		refusedSignIn(Case{ID: "WEB-104", Title: "Login CSRF: an attacker's callback does not sign the victim in",
			Rule:   "A callback carrying an attacker's code and state, opened in the victim's browser, MUST NOT sign the victim in as the attacker.",
			Refs:   []string{refCSRF, refBCPCSRF, "RFC 6819 §4.4.1.8 (CSRF attack against redirect-uri)"},
			Recipe: kit.Procedure{Doc: "the attacker's browser (AZ user mallory) gets a callback URL from the AZ and stops; the victim's browser (AZ user victim), with a sign-in of its own pending, opens that URL", Fn: asVictim(loginCSRF)}}),
		refusedSignIn(Case{ID: "WEB-105", Title: "A callback without code is refused",
			Rule:   "A callback with the right state but no code (and no error) MUST NOT sign the browser in, and MUST be answered without a 5xx in strict.",
			Refs:   []string{"RFC 6749 §4.1.2 (the authorization response carries code)", refWebRoutes},
			Recipe: kit.Procedure{Doc: "the browser signs in, but the AZ's redirect back loses its code parameter", Fn: tamperedCallback(func(q url.Values) { q.Del("code") })}}),
		refusedSignIn(Case{ID: "WEB-106", Title: "access_denied is a refused sign-in",
			Rule:   "A callback with error=access_denied MUST NOT sign the browser in, and MUST be answered without a 5xx in strict.",
			Refs:   []string{refAuthzError, refWebRoutes},
			Recipe: kit.Procedure{Doc: "the AZ answers the authorization request with error=access_denied (and the state)", Fn: scenarioSignIn(fakeaz.WebScenario{Deny: "access_denied"}, nil)}}),
		refusedSignIn(Case{ID: "WEB-107", Title: "A used code is refused without a crash",
			Rule:   "A callback with a code that was already redeemed MUST NOT sign the browser in: the AZ refuses the code (invalid_grant) and the target MUST answer that as a refused sign-in.",
			Refs:   []string{refCodeOnce, refTokenFault},
			Recipe: kit.Procedure{Doc: "the victim signs in; a second browser starts a sign-in and comes back with the victim's (used) code and its own state", Fn: asVictim(codeReplayed)}}),
		refusedSignIn(Case{ID: "WEB-108", Title: "A state that is a bad percent-encoding once decoded is refused without a 5xx",
			Rule: "A callback whose state, once decoded, is not valid percent-encoding (%E0%A4%A) MUST NOT sign the browser in, and MUST be answered as a refused sign-in, never a 5xx or a crash.",
			Refs: malformedRefs(),
			Recipe: malformedCallback("the state is replaced by %25E0%25A4%25A (the value %E0%A4%A, which decodeURIComponent cannot read); the code is genuine",
				func(_, code string) string { return "state=%25E0%25A4%25A&code=" + url.QueryEscape(code) })}),
		refusedSignIn(Case{ID: "WEB-109", Title: "A callback query that is not valid percent-encoding is refused without a 5xx",
			Rule: "A callback whose query string is not valid percent-encoding (code=%E0%A4%A) MUST NOT sign the browser in, and MUST be answered as a refused sign-in, never a 5xx or a crash.",
			Refs: malformedRefs(),
			Recipe: malformedCallback("the state is genuine; the code is replaced by the raw bytes %E0%A4%A (a truncated escape)",
				func(state, _ string) string { return "state=" + url.QueryEscape(state) + "&code=%E0%A4%A" })}),
		refusedSignIn(Case{ID: "WEB-110", Title: "An overlong state and code are refused without a 5xx",
			Rule: "A callback whose state and code are each 3,000 characters long MUST NOT sign the browser in, and MUST be answered as a refused sign-in (a 4xx such as 400 or 414), never a 5xx or a crash.",
			Refs: malformedRefs(),
			Recipe: malformedCallback("the state and the code are replaced by 3,000 characters each",
				func(string, string) string {
					return "state=" + strings.Repeat("S", overlong) + "&code=" + strings.Repeat("C", overlong)
				})}),
		refusedSignIn(Case{ID: "WEB-111", Title: "A state that is not UTF-8 is refused without a 5xx",
			Rule: "A callback whose state decodes to bytes that are not UTF-8 (%FF%FE%C3%28) MUST NOT sign the browser in, and MUST be answered as a refused sign-in, never a 5xx or a crash.",
			Refs: malformedRefs(),
			Recipe: malformedCallback("the state is replaced by %FF%FE%C3%28 (not UTF-8); the code is genuine",
				func(_, code string) string { return "state=%FF%FE%C3%28&code=" + url.QueryEscape(code) })}),
		{ID: "WEB-112", Area: "web", Title: "A callback with a repeated code is refused",
			Rule: "A callback that carries the code parameter twice (the genuine code, then another) MUST NOT sign the browser in: authorization response parameters MUST NOT be repeated, and a second value is parameter pollution.",
			Refs: []string{"RFC 6749 §3.1 (parameters MUST NOT be included more than once)", refWebRoutes}, Expect: split(exp(Should, kit.NotOK), exp(Must, kit.Rejected)), Families: webFamily,
			Recipe: malformedCallback("the genuine state and code, then a second code parameter with a random value",
				func(state, code string) string {
					return "state=" + url.QueryEscape(state) + "&code=" + url.QueryEscape(code) + "&code=" + randomToken()
				})},
	}
}

// overlong is the length of WEB-110's state and code: far beyond any real
// state or code, and within the header limits of common servers (16 KiB).
const overlong = 3000

func malformedRefs() []string {
	return []string{"RFC 3986 §2.1 (percent-encoding)", "RFC 6749 §4.1.2 (the authorization response)", refWebRoutes}
}

// malformedCallback signs a browser in up to the AZ's redirect back, then
// opens the callback with the query query(state, code) made of the genuine
// state and code. The answer must be a refused sign-in, never a 5xx or no
// answer at all.
func malformedCallback(what string, query func(state, code string) string) kit.Procedure {
	return kit.Procedure{
		Doc: "the browser signs in, but the AZ's redirect back is edited: " + what + "; the callback must be refused without a 5xx and the browser not signed in",
		Fn: asVictim(func(ctx context.Context, e *kit.Env, b *kit.Browser) error {
			st, ok, err := b.ToCallback(ctx, "/web/protected")
			if !ok {
				return err
			}
			u := *st.Callback
			u.RawQuery = query(u.Query().Get("state"), u.Query().Get("code"))
			b.Complete(ctx, &st, u.String())
			kit.MarkJudged(e, st.Done)
			switch {
			case st.Done.Status >= 500:
				e.Observation().Failf("a malformed callback got %s: a client's mistake is a refused sign-in (4xx), never a 5xx", st.Done.Brief())
			case st.Done.Error != "":
				e.Observation().Failf("a malformed callback got no answer (%s): the target may have crashed", st.Done.Error)
			}
			notSignedIn(ctx, e, b, "")
			return nil
		}),
	}
}

func stateReplayed(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	first, ok, err := webSignedIn(ctx, e, b, "/web/protected")
	if !ok {
		return err
	}
	b.Visit(ctx, "logout", b.Target("/web/logout"))
	st, ok, err := b.ToCallback(ctx, "/web/protected")
	if !ok {
		return err
	}
	mixedCallback(ctx, e, b, st.Callback, first.Callback.Query().Get("state"))
	return nil
}

func loginCSRF(ctx context.Context, e *kit.Env, vic *kit.Browser) error {
	wc, err := e.WebClient()
	if err != nil {
		return err
	}
	att, err := e.NewBrowser("attacker", "mallory")
	if err != nil {
		return err
	}
	ast, ok, err := att.ToCallback(ctx, "/web/protected")
	if !ok {
		return err
	}
	if _, ok := vic.StartSignIn(ctx, "/web/protected"); !ok {
		return nil
	}
	var st kit.SignInSteps
	vic.Complete(ctx, &st, ast.Callback.String())
	notSignedIn(ctx, e, vic, fakeaz.WebSubject(wc.ClientID, "mallory"))
	return nil
}

func codeReplayed(ctx context.Context, e *kit.Env, vic *kit.Browser) error {
	st, ok, err := webSignedIn(ctx, e, vic, "/web/protected")
	if !ok {
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
	mixedCallback(ctx, e, other, st.Callback, ost.AuthRequest.Query().Get("state"))
	return nil
}

// mixedCallback opens in b the callback URL with its state replaced by
// state (a code and a state of two different sign-ins); b must not be
// signed in afterwards.
func mixedCallback(ctx context.Context, e *kit.Env, b *kit.Browser, callback *url.URL, state string) {
	var replay kit.SignInSteps
	b.Complete(ctx, &replay, edited(callback, func(q url.Values) { q.Set("state", state) }))
	notSignedIn(ctx, e, b, "")
}

// tamperedCallback signs a browser in but edits the AZ's redirect back
// before the browser follows it.
func tamperedCallback(edit func(url.Values)) func(context.Context, *kit.Env) error {
	return asVictim(func(ctx context.Context, e *kit.Env, b *kit.Browser) error {
		st, ok, err := b.ToCallback(ctx, "/web/protected")
		if !ok {
			return err
		}
		b.Complete(ctx, &st, edited(st.Callback, edit))
		kit.MarkJudged(e, st.Done)
		notSignedIn(ctx, e, b, "")
		return nil
	})
}
