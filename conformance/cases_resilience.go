package conformance

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func resilienceCases() []Case {
	return []Case{
		{ID: "RES-001", Area: "resilience", Title: "Slow-loris clients do not starve others",
			Rule:   "While 8 clients trickle their headers a byte at a time, a valid request MUST still be answered within the bound.",
			Refs:   []string{refHygiene},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "8 slow connections open, then one valid pair", Fn: slowLoris}},
		{ID: "RES-002", Area: "resilience", Title: "A claim nested 5,000 arrays deep",
			Rule:   "Deeply nested JSON in a token MUST be refused (or, being validly signed, handled) in bounded time without a crash: a 4xx.",
			Refs:   []string{refHygiene, "RFC 8259 §9 (parsers may limit nesting depth)"},
			Expect: same(Must, kit.Rejected),
			Recipe: kit.Tokens{NoID: true, Access: muts(tf.WithClaim("exp", "bad"), tf.DeepNesting(5000))}},
		{ID: "RES-003", Area: "resilience", Title: "A token with 100,000 claims",
			Rule:   "A token with 10^5 claims MUST be refused with a 4xx in bounded time and memory.",
			Refs:   []string{refHygiene},
			Expect: same(Must, kit.Rejected),
			Recipe: kit.Tokens{NoID: true, Access: muts(tf.ManyClaims(100_000))}},
		{ID: "RES-004", Area: "resilience", Title: "AZ down during a burst of traffic", Needs: []Need{NeedSecondApp, NeedAZControl},
			Rule:   "With the key endpoint failing for one app during 120 concurrent requests, every answer MUST be correct (200 for the app whose key is cached, fail-closed for the other, 401 for expired tokens), none may hang, and the failing app MUST recover.",
			Refs:   []string{refHygiene, refContract, refUnavailable},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "apps A (key cached) and B (publickey 500); 120 requests at concurrency 8 mixing valid A, valid B and expired A; then B recovers", Fn: outageBurst}},
	}
}

func slowLoris(ctx context.Context, e *kit.Env) error {
	u, err := url.Parse(e.Kit().Target)
	if err != nil {
		return err
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	for range 8 {
		c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
		if err != nil {
			break
		}
		conns = append(conns, c)
		_, _ = fmt.Fprintf(c, "GET /v1/apps/%s/protected HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer ", randomGUID(), u.Host)
	}
	app, p, err := kit.FreshPair(ctx, e, true)
	if err != nil {
		return err
	}
	obs := e.Observation()
	obs.Want = p.Want
	e.Protected(ctx, "valid pair with slow clients connected", app.ID, p.Header())
	obs.Fact("slow connections", "%d", len(conns))
	return nil
}

func outageBurst(ctx context.Context, e *kit.Env) error {
	a, b, pa, err := kit.TwoApps(ctx, e)
	if err != nil || !e.ExpectAccepted(ctx, "cache app A's key", a.ID, pa) {
		return err
	}
	if err := e.Fault(b.ID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500}); err != nil {
		return err
	}
	type job struct {
		app  string
		pair kit.Pair
		want kit.Outcome
	}
	var jobs []job
	for i := range 120 {
		var j job
		switch i % 3 {
		case 0:
			p, err := a.Mint(true, nil, nil)
			if err != nil {
				return err
			}
			j = job{a.ID, p, kit.Accepted}
		case 1:
			p, err := b.Mint(true, nil, nil)
			if err != nil {
				return err
			}
			j = job{b.ID, p, kit.FailClosed}
		default:
			p, err := a.Mint(true, muts(tf.ExpiredBy(time.Hour)), nil)
			if err != nil {
				return err
			}
			j = job{a.ID, p, kit.InvalidToken}
		}
		jobs = append(jobs, j)
	}
	var mu sync.Mutex
	wrong := map[kit.Outcome]int{}
	var slowest time.Duration
	var g errgroup.Group
	g.SetLimit(8)
	for _, j := range jobs {
		g.Go(func() error {
			x := e.Protected(ctx, "burst", j.app, j.pair.Header())
			ok, _ := j.want.Match(&x, j.pair.Want)
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, x.Latency)
			if !ok || x.Latency > e.Kit().Bound() {
				wrong[j.want]++
			}
			return nil
		})
	}
	_ = g.Wait()
	obs := e.Observation()
	obs.Fact("slowest", "%s", slowest.Round(time.Millisecond))
	for o, n := range wrong {
		obs.Failf("%d of 40 requests expecting %s got something else", n, o)
	}
	return awaitRecovery(ctx, e, b, "app B after recovery", "B recovered after")
}
