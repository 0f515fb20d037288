package conformance

import (
	"context"
	"fmt"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family's session (WEB-3xx): the session id at sign-in, its
// lifetime, and logout.
func webSessionCases() []Case {
	return []Case{
		{ID: "WEB-301", Area: "web", Title: "The session id changes at sign-in (fixation)",
			Rule: "Cookies the target set before the sign-in MUST NOT be signed in afterwards: an attacker who planted them in the victim's browser must not share the victim's session.",
			Refs: []string{refFixation}, Expect: same(Must, kit.NotOK), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the attacker opens /web/protected and keeps the cookies the target sets; they are planted in the victim's browser, which signs in; the attacker then opens /web/protected with those cookies", Fn: asVictim(sessionFixation)}},
		{ID: "WEB-302", Area: "web", Title: "The session does not outlive the tokens",
			Rule: "A session MUST end no later than the tokens it was made from (the id token's exp, expires_in).",
			Refs: []string{refIDTValid, refWebContract}, Expect: split(exp(Should, kit.NotOK), exp(Must, kit.NotOK)), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the AZ issues tokens that live 3 s; the browser signs in, waits 5 s, then opens /web/protected", Fn: asVictim(sessionOutlivesTokens)}},
		{ID: "WEB-303", Area: "web", Title: "Logout ends the session on the server",
			Rule: "After GET /web/logout, the session's cookies MUST NOT be signed in any more, even when a browser sends them again.",
			Refs: []string{refLogout, refWebRoutes}, Expect: same(Must, kit.NotOK), Families: webFamily,
			Recipe: kit.Procedure{Doc: "the browser signs in and its cookies are saved; it opens /web/logout; a fresh browser with the saved cookies opens /web/protected", Fn: asVictim(logoutEndsSession)}},
	}
}

func sessionFixation(ctx context.Context, e *kit.Env, vic *kit.Browser) error {
	att, err := e.NewBrowser("attacker", "mallory")
	if err != nil {
		return err
	}
	if _, ok := att.StartSignIn(ctx, "/web/protected"); !ok {
		return nil
	}
	planted := att.Cookies()
	e.Observation().Fact("planted cookies", "%d", len(planted))
	vic.Plant(planted)
	if _, ok, err := webSignedIn(ctx, e, vic, "/web/protected"); !ok {
		return err
	}
	got, _ := att.WhoAmI(ctx, "with the planted cookies")
	e.Observation().Judge()
	if got != "" {
		e.Observation().Failf("session fixation: the attacker's pre-sign-in cookies are signed in as %s after the victim signed in", got)
	}
	return nil
}

func sessionOutlivesTokens(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	wc, err := e.WebClient()
	if err != nil {
		return err
	}
	if err := setScenario(e, wc, fakeaz.WebScenario{TokenLifetime: fakeaz.Duration(3 * time.Second)}); err != nil {
		return err
	}
	start := time.Now()
	if _, ok, err := webSignedIn(ctx, e, b, "/web/protected"); !ok {
		return err
	}
	if err := kit.SleepUntil(ctx, start.Add(5*time.Second)); err != nil {
		return fmt.Errorf("%w: %w", kit.ErrSetup, err)
	}
	stillSignedIn(ctx, e, b, "5 s after the sign-in, though its tokens expired after 3 s")
	e.Observation().Judge()
	return nil
}

func logoutEndsSession(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	if _, ok, err := webSignedIn(ctx, e, b, "/web/protected"); !ok {
		return err
	}
	saved := b.Cookies()
	if x := b.Visit(ctx, "logout", b.Target("/web/logout")); x.Error != "" {
		kit.MarkJudged(e, x)
		e.Observation().Failf("GET /web/logout got no answer (%s): the sign-out could not be completed", x.Error)
		return nil
	}
	replay, err := e.NewBrowser("replay", "victim")
	if err != nil {
		return err
	}
	replay.Plant(saved)
	stillSignedIn(ctx, e, replay, "with the cookies of a session that signed out (GET /web/logout answered)")
	e.Observation().Judge()
	return nil
}

// stillSignedIn fails the case when b is signed in; when says when.
func stillSignedIn(ctx context.Context, e *kit.Env, b *kit.Browser, when string) {
	if sub, _ := b.WhoAmI(ctx, "signed in?"); sub != "" {
		e.Observation().Failf("the browser is still signed in (as %s) %s", sub, when)
	}
}
