package conformance

import (
	"context"
	"net/url"

	"github.com/mcaspec/mcaspec/conformance/kit"
)

// The recipe kit of the web cases: the steps their procedures share.

// asVictim runs fn in a fresh browser of the victim (AZ user victim), the
// browser most web cases sign in with.
func asVictim(fn func(context.Context, *kit.Env, *kit.Browser) error) func(context.Context, *kit.Env) error {
	return func(ctx context.Context, e *kit.Env) error {
		b, err := e.NewBrowser("victim", "victim")
		if err != nil {
			return err
		}
		return fn(ctx, e, b)
	}
}

// startJudged opens /web/protected in b, signed out; the target's redirect
// is the judged exchange. ok is false when it did not redirect to the
// authorization endpoint (recorded as a failed precondition).
func startJudged(ctx context.Context, e *kit.Env, b *kit.Browser) (kit.SignInSteps, bool) {
	st, ok := b.StartSignIn(ctx, "/web/protected")
	kit.MarkJudged(e, st.Start)
	return st, ok
}

// edited returns u, its query edited by edit.
func edited(u *url.URL, edit func(url.Values)) string {
	c := *u
	q := c.Query()
	edit(q)
	c.RawQuery = q.Encode()
	return c.String()
}
