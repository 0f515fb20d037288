package conformance

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

// Raw sends a hand-written HTTP/1.1 GET over TCP, for headers net/http
// refuses to send (CR, obsolete line folding) and for oversized requests: the
// response is read while the request is still being written, so a server
// that answers 431 and closes early is seen answering, not as a broken pipe.
func (e *Env) Raw(ctx context.Context, step, path string, headerLines ...string) Exchange {
	u, err := url.Parse(e.r.Target)
	x := Exchange{Step: step, Method: http.MethodGet, URL: strings.TrimRight(e.r.Target, "/") + path}
	if err != nil {
		x.Error = err.Error()
		return x
	}
	if why := e.r.unresponsive(); why != "" {
		x.Error = why
		return x
	}
	defer e.r.noteAnswer(&x)
	d := net.Dialer{Timeout: e.r.bound()}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		x.Error, x.TimedOut = err.Error(), isTimeout(err)
		return x
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(e.r.bound() + 2*time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, u.Host)
	for _, l := range headerLines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	x.RequestHeader = http.Header{}
	for _, l := range headerLines {
		k, v, _ := strings.Cut(l, ":")
		x.RequestHeader.Add(k, strings.TrimSpace(v))
	}
	start := time.Now()
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, b.String())
		writeErr <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	x.Latency = time.Since(start)
	if err != nil {
		if werr := <-writeErr; werr != nil {
			err = fmt.Errorf("%w (while sending: %w)", err, werr)
		}
		x.Error, x.TimedOut = "no HTTP response: "+err.Error(), isTimeout(err)
		return x
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	x.Status, x.body, x.Body = resp.StatusCode, body, excerpt(body, DefaultBodyExcerpt)
	x.Header = http.Header{}
	for _, k := range []string{"WWW-Authenticate", "Content-Type"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			x.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	return x
}

func rawHeaderRecipe(doc string, value func(a, i string) string) Recipe {
	return Procedure{Doc: doc, Fn: func(ctx context.Context, e *Env) (*Observation, error) {
		app, p, err := freshPair(ctx, e, true)
		if err != nil {
			return nil, err
		}
		obs := &Observation{}
		obs.Add(e.Raw(ctx, "raw request", "/v1/apps/"+app.ID+"/protected", "Authorization: "+value(p.Access, p.ID)))
		return obs, nil
	}}
}

func freshPair(ctx context.Context, e *Env, withID bool, accessMuts ...tf.Mutation) (*App, Pair, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, Pair{}, err
	}
	p, err := app.Mint(withID, accessMuts, nil)
	return app, p, err
}

// expectOK records a precondition: the exchange must be a 200 with the
// pair's context; otherwise the case cannot test what it is about.
func expectOK(obs *Observation, x Exchange, want *SecurityContext) bool {
	if ok, why := Accepted.Match(&x, want); !ok {
		obs.Failf("precondition: %s should be accepted but got %s (%s)", x.Step, x.Brief(), why)
		return false
	}
	return true
}

func keyURLCase(id, param, name string) Case {
	return Case{ID: id, Area: "signature", Title: "Attacker key behind " + param,
		Rule:   "Key URLs in the token header (" + param + ") MUST NOT be fetched and the token MUST be refused as invalid_token.",
		Refs:   []string{"RFC 8725 §3.10", "RFC 7515 §4.1.2, §4.1.5", refSeedInvalid},
		Expect: must401i,
		Recipe: Procedure{Doc: "access token signed by the attacker, header " + param + " pointing at the attacker's server (fetches counted)",
			Fn: func(ctx context.Context, e *Env) (*Observation, error) {
				u := e.Runner().Attacker.URLFor(strings.ToLower(e.caseID) + "/" + name)
				app, p, err := freshPair(ctx, e, true, tf.KeyURL(param, u, e.AttackerKey()))
				if err != nil {
					return nil, err
				}
				obs := &Observation{}
				obs.Token("access", p.Access)
				obs.Add(e.Protected(ctx, "request", app.ID, p.Header()))
				if n := e.Runner().Attacker.Fetches(u); n > 0 {
					obs.Failf("the target fetched the %s URL %s %d time(s)", param, u, n)
				}
				return obs, nil
			}}}
}

func leewayRecipe() Recipe {
	steps := []time.Duration{time.Second, 2 * time.Second, 5 * time.Second, 15 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute}
	return Procedure{Doc: "access tokens expired by 1s, 2s, 5s, 15s, 30s, 1m, 2m, 5m", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
		app, err := e.NewApp(ctx)
		if err != nil {
			return nil, err
		}
		obs := &Observation{}
		largest := time.Duration(0)
		for _, d := range steps {
			p, err := app.Mint(true, muts(tf.ExpiredBy(d)), nil)
			if err != nil {
				return nil, err
			}
			x := obs.Add(e.Protected(ctx, "expired by "+d.String(), app.ID, p.Header()))
			if x.Status == http.StatusOK {
				largest = d
			}
		}
		if largest == 0 {
			obs.Fact("leeway", "none: a token expired by 1s is refused")
		} else {
			obs.Fact("leeway", "at least %s (a token expired by %s was accepted)", largest, largest)
		}
		i := 0
		obs.JudgedIndex = &i
		return obs, nil
	}}
}

func cachedExpiryRecipe() Recipe {
	return Procedure{Doc: "a token valid for 2 more seconds is accepted, then sent again 1 s after its exp; a never-seen token expired by 1 s is the control",
		Fn: func(ctx context.Context, e *Env) (*Observation, error) {
			app, err := e.NewApp(ctx)
			if err != nil {
				return nil, err
			}
			p, err := app.Mint(true, muts(tf.ExpiresIn(2*time.Second)), nil)
			if err != nil {
				return nil, err
			}
			obs := &Observation{Want: p.Want}
			obs.Token("access", p.Access)
			if !expectOK(obs, obs.Add(e.Protected(ctx, "while valid", app.ID, p.Header())), p.Want) {
				return obs, nil
			}
			expAt, err := claimTime(p.Access, "exp")
			if err != nil {
				return nil, err
			}
			if err := sleepUntil(ctx, expAt.Add(1100*time.Millisecond)); err != nil {
				return nil, err
			}
			ctl, err := app.Mint(true, muts(tf.ExpiredBy(time.Second)), nil)
			if err != nil {
				return nil, err
			}
			if x := obs.Add(e.Protected(ctx, "control: never-seen token expired by 1s", app.ID, ctl.Header())); x.Status == http.StatusOK {
				return obs, Skip("the target accepts a never-seen token expired by 1 s (clock leeway), so its cache TTL cannot be told apart; see TIM-007")
			}
			obs.Add(e.Protected(ctx, "same token after exp", app.ID, p.Header()))
			return obs, nil
		}}
}

// ProtectedConcurrently sends every pair to the protected route at once and
// returns the exchanges in the order of pairs.
func (e *Env) ProtectedConcurrently(ctx context.Context, appID string, pairs []Pair) []Exchange {
	xs := make([]Exchange, len(pairs))
	var wg sync.WaitGroup
	for i := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			xs[i] = e.Protected(ctx, fmt.Sprintf("request %d", i), appID, pairs[i].Header())
		}()
	}
	wg.Wait()
	return xs
}

func claimTime(tok, name string) (time.Time, error) {
	c, err := claims(tok)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %v", ErrSetup, err)
	}
	v, ok := c[name].(float64)
	if !ok {
		return time.Time{}, fmt.Errorf("%w: no numeric %s", ErrSetup, name)
	}
	return time.Unix(int64(v), 0), nil
}

// sleepUntil waits until t or ctx ends. The harness waits for real time to
// pass only where a rule is about real time (token expiry).
func sleepUntil(ctx context.Context, t time.Time) error {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

func otherClientIDToken(ctx context.Context, e *Env) (*Observation, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	a, err := app.Mint(false, nil, nil)
	if err != nil {
		return nil, err
	}
	b, err := app.Mint(true, nil, nil)
	if err != nil {
		return nil, err
	}
	obs := &Observation{}
	obs.Token("access", a.Access)
	obs.Token("id", b.ID)
	obs.Add(e.Protected(ctx, "access of client A + id of client B", app.ID, "Bearer "+a.Access+" "+b.ID))
	return obs, nil
}

func richContext(ctx context.Context, e *Env) (*Observation, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	client := e.ClientID()
	spec := DefaultIDSpec(app.ID, client)
	spec.User.DisplayName = "Zoë Ωmega — 東京 🚀 <script>"
	spec.User.Attributes = map[string]any{"groups": []any{"admins?", "a/b"}, "address": map[string]any{"city": "Zürich", "zip": "8001"}, "score": 3.5, "active": true, "none": nil}
	acc, err := app.AccessToken(tf.Access{AppID: app.ID, ClientID: client})
	if err != nil {
		return nil, err
	}
	id, err := app.IDToken(spec)
	if err != nil {
		return nil, err
	}
	obs := &Observation{Want: WantContext(spec)}
	obs.Token("access", acc)
	obs.Token("id", id)
	obs.Add(e.Protected(ctx, "request", app.ID, "Bearer "+acc+" "+id))
	return obs, nil
}

func concurrentContexts(ctx context.Context, e *Env) (*Observation, error) {
	const n = 24
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	pairs := make([]Pair, n)
	for i := range pairs {
		if pairs[i], err = app.Mint(i%3 != 0, nil, nil); err != nil {
			return nil, err
		}
	}
	xs := e.ProtectedConcurrently(ctx, app.ID, pairs)
	obs := &Observation{Want: pairs[n-1].Want}
	bad := 0
	for i, x := range xs {
		obs.Add(x)
		if ok, why := Accepted.Match(&xs[i], pairs[i].Want); !ok {
			bad++
			if bad <= 3 {
				obs.Failf("request %d: %s (%s)", i, x.Brief(), why)
			}
		}
	}
	if bad > 3 {
		obs.Failf("... %d of %d requests got a wrong answer", bad, n)
	}
	return obs, nil
}
