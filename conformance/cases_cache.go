package conformance

import (
	"context"
	"crypto/rand"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func cacheCases() []Case {
	return []Case{
		{ID: "CCH-001", Area: "cache", Title: "Accepted for app A, then presented for app B", Needs: []Need{NeedSecondApp},
			Rule:   "A token accepted for app A MUST be refused for app B: the cache key MUST include the app id.",
			Refs:   []string{refSeedCache, refSeedAud},
			Expect: must401i,
			Recipe: kit.Procedure{Doc: "valid pair for app A sent to A (200), then the same header sent to app B's URL", Fn: func(ctx context.Context, e *kit.Env) error {
				a, b, p, err := kit.TwoApps(ctx, e)
				if err != nil || !e.ExpectAccepted(ctx, "to app A", a.ID, p) {
					return err
				}
				e.Protected(ctx, "same header to app B", b.ID, p.Header())
				return nil
			}}},
		{ID: "CCH-002", Area: "cache", Title: "Refused for app B, still accepted for app A", Needs: []Need{NeedSecondApp},
			Rule:   "A token refused for the wrong app MUST still be accepted for the app it was issued to: the rejection cache key MUST include the app id.",
			Refs:   []string{refSeedCache, refSeedAud},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "valid pair for app A sent to app B first, then to A", Fn: func(ctx context.Context, e *kit.Env) error {
				a, b, p, err := kit.TwoApps(ctx, e)
				if err != nil {
					return err
				}
				obs := e.Observation()
				obs.Want = p.Want
				if x := e.Protected(ctx, "to app B", b.ID, p.Header()); x.Status == http.StatusOK {
					obs.Failf("app B accepted a token for app A")
				}
				e.Protected(ctx, "to app A", a.ID, p.Header())
				return nil
			}}},
		{ID: "CCH-003", Area: "cache", Title: "Same header.payload with a garbage signature after a success",
			Rule:   "After a token is accepted, the same header and payload with another signature MUST be refused: the cache key MUST cover the signature.",
			Refs:   []string{refSeedCache, refRFC8725s33},
			Expect: must401i,
			Recipe: resendAltered("access token's signature replaced by random bytes", func(p kit.Pair) string { return "Bearer " + replaceSig(p.Access) + " " + p.ID })},
		{ID: "CCH-004", Area: "cache", Title: "Same access token with a forged id token after a success",
			Rule:   "After a pair is accepted, the same access token with an id token whose signature is replaced MUST be refused: the cache key MUST cover both tokens.",
			Refs:   []string{refSeedCache, refRFC8725s33},
			Expect: must401i,
			Recipe: resendAltered("id token's signature replaced by random bytes", func(p kit.Pair) string { return "Bearer " + p.Access + " " + replaceSig(p.ID) })},
		{ID: "CCH-005", Area: "cache", Title: "Service after a flood of distinct rejected tokens", Needs: []Need{NeedDisruptive},
			Rule:   "After 1,000 distinct invalid tokens (filling a rejection cache), valid tokens are still accepted promptly; the latency is recorded.",
			Refs:   []string{refSeedCache, refHygiene},
			Expect: same(Info, kit.Observed),
			Recipe: kit.Procedure{Doc: "1,000 access tokens with random signatures at concurrency 8, then a valid pair", Fn: floodThenValid}},
	}
}

func replaceSig(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	raw, _ := tf.B64.DecodeString(tok[i+1:])
	junk := make([]byte, len(raw))
	_, _ = rand.Read(junk)
	return tok[:i+1] + tf.B64.EncodeToString(junk)
}

func resendAltered(doc string, alter func(kit.Pair) string) kit.Recipe {
	return kit.Procedure{Doc: "valid pair accepted, then resent with the " + doc, Fn: func(ctx context.Context, e *kit.Env) error {
		app, p, err := kit.FreshPair(ctx, e, true)
		if err != nil || !e.ExpectAccepted(ctx, "valid pair", app.ID, p) {
			return err
		}
		e.Protected(ctx, "altered", app.ID, alter(p))
		return nil
	}}
}

func floodThenValid(ctx context.Context, e *kit.Env) error {
	app, p, err := kit.FreshPair(ctx, e, false)
	if err != nil {
		return err
	}
	obs := e.Observation()
	obs.Want = p.Want
	start := time.Now()
	var mu sync.Mutex
	accepted, errs := 0, 0
	var g errgroup.Group
	g.SetLimit(8)
	for range 1000 {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			x := e.Protected(ctx, "flood", app.ID, "Bearer "+replaceSig(p.Access))
			mu.Lock()
			defer mu.Unlock()
			if x.Status == http.StatusOK {
				accepted++
			}
			if x.Error != "" || x.Status >= 500 {
				errs++
			}
			return nil
		})
	}
	_ = g.Wait()
	obs.Fact("flood", "1000 forged tokens in %s: %d accepted, %d errors or 5xx", time.Since(start).Round(time.Millisecond), accepted, errs)
	x := e.Protected(ctx, "valid after flood", app.ID, p.Header())
	obs.Fact("valid after flood", "%s", x.Brief())
	return nil
}
