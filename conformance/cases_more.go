package conformance

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/fakeaz"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func cacheCases() []Case {
	return []Case{
		{ID: "CCH-001", Area: "cache", Title: "Accepted for app A, then presented for app B", Needs: []Need{NeedSecondApp},
			Rule:   "A token accepted for app A MUST be refused for app B: the cache key MUST include the app id.",
			Refs:   []string{refSeedCache, refSeedAud},
			Expect: must401i,
			Recipe: Procedure{Doc: "valid pair for app A sent to A (200), then the same header sent to app B's URL", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
				a, p, err := freshPair(ctx, e, true)
				if err != nil {
					return nil, err
				}
				b, err := e.NewApp(ctx)
				if err != nil {
					return nil, err
				}
				obs := &Observation{}
				if !expectOK(obs, obs.Add(e.Protected(ctx, "to app A", a.ID, p.Header())), p.Want) {
					return obs, nil
				}
				obs.Add(e.Protected(ctx, "same header to app B", b.ID, p.Header()))
				return obs, nil
			}}},
		{ID: "CCH-002", Area: "cache", Title: "Refused for app B, still accepted for app A", Needs: []Need{NeedSecondApp},
			Rule:   "A token refused for the wrong app MUST still be accepted for the app it was issued to: the rejection cache key MUST include the app id.",
			Refs:   []string{refSeedCache, refSeedAud},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "valid pair for app A sent to app B first, then to A", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
				a, p, err := freshPair(ctx, e, true)
				if err != nil {
					return nil, err
				}
				b, err := e.NewApp(ctx)
				if err != nil {
					return nil, err
				}
				obs := &Observation{Want: p.Want}
				if x := obs.Add(e.Protected(ctx, "to app B", b.ID, p.Header())); x.Status == http.StatusOK {
					obs.Failf("app B accepted a token for app A")
				}
				obs.Add(e.Protected(ctx, "to app A", a.ID, p.Header()))
				return obs, nil
			}}},
		{ID: "CCH-003", Area: "cache", Title: "Same header.payload with a garbage signature after a success",
			Rule:   "After a token is accepted, the same header and payload with another signature MUST be refused: the cache key MUST cover the signature.",
			Refs:   []string{refSeedCache, refRFC8725s33},
			Expect: must401i,
			Recipe: resendAltered("access token's signature replaced by random bytes", func(p Pair) string { return "Bearer " + replaceSig(p.Access) + " " + p.ID })},
		{ID: "CCH-004", Area: "cache", Title: "Same access token with a forged id token after a success",
			Rule:   "After a pair is accepted, the same access token with an id token whose signature is replaced MUST be refused: the cache key MUST cover both tokens.",
			Refs:   []string{refSeedCache, refRFC8725s33},
			Expect: must401i,
			Recipe: resendAltered("id token's signature replaced by random bytes", func(p Pair) string { return "Bearer " + p.Access + " " + replaceSig(p.ID) })},
		{ID: "CCH-005", Area: "cache", Title: "Service after a flood of distinct rejected tokens", Needs: []Need{NeedDisruptive},
			Rule:   "After 1,000 distinct invalid tokens (filling a rejection cache), valid tokens are still accepted promptly; the latency is recorded.",
			Refs:   []string{refSeedCache, refHygiene},
			Expect: same(Info, Observed),
			Recipe: Procedure{Doc: "1,000 access tokens with random signatures at concurrency 8, then a valid pair", Fn: floodThenValid}},
	}
}

func replaceSig(tok string) string {
	i := strings.LastIndexByte(tok, '.')
	raw, _ := tf.B64.DecodeString(tok[i+1:])
	junk := make([]byte, len(raw))
	_, _ = rand.Read(junk)
	return tok[:i+1] + tf.B64.EncodeToString(junk)
}

func resendAltered(doc string, alter func(Pair) string) Recipe {
	return Procedure{Doc: "valid pair accepted, then resent with the " + doc, Fn: func(ctx context.Context, e *Env) (*Observation, error) {
		app, p, err := freshPair(ctx, e, true)
		if err != nil {
			return nil, err
		}
		obs := &Observation{}
		if !expectOK(obs, obs.Add(e.Protected(ctx, "valid pair", app.ID, p.Header())), p.Want) {
			return obs, nil
		}
		obs.Add(e.Protected(ctx, "altered", app.ID, alter(p)))
		return obs, nil
	}}
}

func floodThenValid(ctx context.Context, e *Env) (*Observation, error) {
	app, p, err := freshPair(ctx, e, false)
	if err != nil {
		return nil, err
	}
	obs := &Observation{Want: p.Want}
	start := time.Now()
	var mu sync.Mutex
	accepted, errs := 0, 0
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				x := e.Protected(ctx, "flood", app.ID, "Bearer "+replaceSig(p.Access))
				mu.Lock()
				if x.Status == http.StatusOK {
					accepted++
				}
				if x.Error != "" || x.Status >= 500 {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	for i := range 1000 {
		if ctx.Err() != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	obs.Fact("flood", "1000 forged tokens in %s: %d accepted, %d errors or 5xx", time.Since(start).Round(time.Millisecond), accepted, errs)
	x := obs.Add(e.Protected(ctx, "valid after flood", app.ID, p.Header()))
	obs.Fact("valid after flood", "%s", x.Brief())
	return obs, nil
}

func keyCases() []Case {
	outage := func(id, title, doc string, f fakeaz.FaultSpec) Case {
		return Case{ID: id, Area: "keys", Title: title, Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "When the AZ's key endpoint fails (" + doc + ") the target MUST fail closed — 401, 500 or 503, never 200 — within a bounded time.",
			Refs:   []string{refAZKey, refContract, refUnavailable},
			Expect: same(Must, FailClosed),
			Recipe: Procedure{Doc: "fresh app whose publickey endpoint " + doc + "; one valid pair", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
				app, err := e.NewApp(ctx)
				if err != nil {
					return nil, err
				}
				if err := e.fault(app.ID, f); err != nil {
					return nil, err
				}
				p, err := app.Mint(true, nil, nil)
				if err != nil {
					return nil, err
				}
				obs := &Observation{}
				obs.Add(e.Protected(ctx, "valid pair during outage", app.ID, p.Header()))
				return obs, nil
			}}}
	}
	return []Case{
		{ID: "KEY-001", Area: "keys", Title: "The key is fetched from the app's publickey endpoint", Needs: []Need{NeedFreshApp},
			Rule:   "The target MUST get the verification key from {serverUrl}/authorization/v1/apps/{appId}/publickey for the app in question.",
			Refs:   []string{refSeedKey, refAZKey},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "valid pair for a fresh app; fakeaz counts key fetches per app", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
				app, p, err := freshPair(ctx, e, true)
				if err != nil {
					return nil, err
				}
				before := e.AZ().Stats()
				obs := &Observation{Want: p.Want}
				obs.Add(e.Protected(ctx, "valid pair", app.ID, p.Header()))
				after := e.AZ().Stats()
				mine := keyFetches(after, app.ID) - keyFetches(before, app.ID)
				others := keyFetches(after, "") - keyFetches(before, "") - mine
				obs.Fact("key fetches", "%d for the app, %d for other apps", mine, others)
				if mine == 0 {
					obs.Failf("the target never fetched the key of app %s", app.ID)
				}
				if others > 0 {
					obs.Failf("the target fetched %d key(s) of other apps", others)
				}
				return obs, nil
			}}},
		outage("KEY-002", "AZ key endpoint answers 500", "answers 500", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500, Body: `{"error":"server_error"}`}),
		outage("KEY-003", "AZ key endpoint answers garbage JSON", "answers 200 with garbage", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 200, Body: `{"kty":"RSA","n":"%%%not-base64","e":`}),
		outage("KEY-004", "AZ key endpoint answers an empty body", "answers 200 with an empty body", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 200}),
		outage("KEY-005", "AZ key endpoint hangs", "hangs", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Hang: true}),
		{ID: "KEY-006", Area: "keys", Title: "Concurrent requests while the key endpoint hangs", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "While the key endpoint hangs, concurrent requests MUST all be answered within the bound, none with 200.",
			Refs:   []string{refContract, refHygiene},
			Expect: same(Must, FailClosed),
			Recipe: Procedure{Doc: "16 concurrent valid pairs for a fresh app whose publickey endpoint hangs", Fn: concurrentDuringHang}},
		{ID: "KEY-007", Area: "keys", Title: "Recovery once the AZ recovers", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "After a key-endpoint outage ends, valid tokens MUST be accepted again within 10 s.",
			Refs:   []string{refSeedKey, refContract},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "publickey answers 500 for one request, then recovers; valid pairs every 250 ms for up to 10 s", Fn: recovery}},
		{ID: "KEY-008", Area: "keys", Title: "Tokens signed by a rotated key are accepted", Needs: []Need{NeedAZControl},
			Rule:   "After the AZ rotates an app's key, tokens signed by the new key SHOULD be accepted within 15 s (refetch on signature failure, rate-limited).",
			Refs:   []string{refKeyRotation, refSeedKey},
			Expect: split(exp(Info, Observed), exp(Should, Accepted)),
			Recipe: Procedure{Doc: "valid pair accepted (key cached), key rotated at the AZ, new-key pairs every 250 ms for up to 15 s", Fn: rotation}},
		{ID: "KEY-009", Area: "keys", Title: "Tokens signed by a retired key are refused", Needs: []Need{NeedAZControl},
			Rule:   "Once the target uses the new key, a never-seen token signed by the retired key MUST be refused as invalid_token.",
			Refs:   []string{refKeyRotation, refRFC8725s33},
			Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)),
			Recipe: Procedure{Doc: "rotate and retire the old key; once a new-key token is accepted, send a fresh old-key token", Fn: retiredKey}},
		{ID: "KEY-010", Area: "keys", Title: "Repeated tokens for an unknown app id", Needs: []Need{NeedFreshApp, NeedDisruptive},
			Rule:   "20 requests for one app id the AZ does not know SHOULD NOT cause more than 5 key fetches (negative caching), and none may be accepted.",
			Refs:   []string{refSeedCache, refKeyRotation, refHygiene},
			Expect: split(exp(Info, Observed), exp(Should, InvalidToken, FailClosed)),
			Recipe: Procedure{Doc: "20 tokens signed by an attacker for one unregistered app id; fakeaz counts key fetches", Fn: unknownAppFlood(1, 20, 5)}},
		{ID: "KEY-011", Area: "keys", Title: "Tokens for 100 distinct unknown app ids", Needs: []Need{NeedFreshApp, NeedDisruptive},
			Rule:   "Tokens for 100 app ids the AZ does not know: the number of key fetches is recorded (a bounded validator rate-limits them).",
			Refs:   []string{refSeedCache, refHygiene},
			Expect: same(Info, Observed),
			Recipe: Procedure{Doc: "100 tokens signed by an attacker, each for a different unregistered app id", Fn: unknownAppFlood(100, 100, 0)}},
		{ID: "KEY-012", Area: "keys", Title: "A token signed with app A's key presented for app B", Needs: []Need{NeedSecondApp},
			Rule:   "Keys are per app: a token signed by app A's key, claiming app B, MUST be refused by app B.",
			Refs:   []string{refAZKey, refRFC8725s33},
			Expect: must401i,
			Recipe: Procedure{Doc: "app B's key cached by a valid B request; then a token for B signed by A's key", Fn: crossAppKey}},
	}
}

func keyFetches(s fakeaz.Stats, app string) int {
	return s.Count(fakeaz.EndpointPublicKey, app) + s.Count(fakeaz.EndpointJWKS, app)
}

// fault sets an AZ fault for the app and clears every fault when the case ends.
func (e *Env) fault(appID string, f fakeaz.FaultSpec) error {
	f.AppID = appID
	if err := e.AZ().SetFault(f); err != nil {
		return fmt.Errorf("%w: set fault: %v", ErrSetup, err)
	}
	e.Defer(e.AZ().ClearFaults)
	return nil
}

func concurrentDuringHang(ctx context.Context, e *Env) (*Observation, error) {
	const n = 16
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.fault(app.ID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Hang: true}); err != nil {
		return nil, err
	}
	pairs := make([]Pair, n)
	for i := range pairs {
		if pairs[i], err = app.Mint(true, nil, nil); err != nil {
			return nil, err
		}
	}
	xs := e.ProtectedConcurrently(ctx, app.ID, pairs)
	obs := &Observation{}
	bound := e.r.bound()
	var slowest time.Duration
	for i := range xs {
		obs.Add(xs[i])
		slowest = max(slowest, xs[i].Latency)
		if ok, _ := FailClosed.Match(&xs[i], nil); !ok || xs[i].Latency > bound {
			obs.Failf("request %d: %s", i, xs[i].Brief())
		}
	}
	obs.Fact("slowest", "%s", slowest.Round(time.Millisecond))
	return obs, nil
}

// retry sends fresh valid pairs from mint until one is accepted or the deadline passes.
func retry(ctx context.Context, e *Env, obs *Observation, step string, appID string, within time.Duration, mint func() (Pair, error)) (time.Duration, bool, error) {
	start := time.Now()
	for {
		p, err := mint()
		if err != nil {
			return 0, false, err
		}
		obs.Want = p.Want
		x := obs.Add(e.Protected(ctx, step, appID, p.Header()))
		if x.Status == http.StatusOK {
			return time.Since(start), true, nil
		}
		if time.Since(start) > within {
			return time.Since(start), false, nil
		}
		if err := sleepUntil(ctx, time.Now().Add(250*time.Millisecond)); err != nil {
			return 0, false, err
		}
	}
}

func recovery(ctx context.Context, e *Env) (*Observation, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	if err := e.fault(app.ID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500}); err != nil {
		return nil, err
	}
	obs := &Observation{}
	p, err := app.Mint(true, nil, nil)
	if err != nil {
		return nil, err
	}
	if x := obs.Add(e.Protected(ctx, "during outage", app.ID, p.Header())); x.Status == http.StatusOK {
		obs.Failf("precondition: accepted a token while the key endpoint was failing")
		return obs, nil
	}
	e.AZ().ClearFaults()
	took, ok, err := retry(ctx, e, obs, "after recovery", app.ID, 10*time.Second, func() (Pair, error) { return app.Mint(true, nil, nil) })
	if err != nil {
		return nil, err
	}
	obs.Fact("recovered after", "%s (ok=%v)", took.Round(time.Millisecond), ok)
	return obs, nil
}

// rotateAndWait gets a valid pair accepted (so the target caches the key),
// rotates the app's key at the AZ (retiring the old one if retire), and
// sends new-key pairs until one is accepted or 15 s pass. It returns the
// app as it was (old key) and whether the new key was accepted; obs holds
// the exchanges. done is true when a precondition failed and obs says why.
func rotateAndWait(ctx context.Context, e *Env, obs *Observation, retire bool) (old *App, took time.Duration, ok, done bool, err error) {
	app, p, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, 0, false, false, err
	}
	if !expectOK(obs, obs.Add(e.Protected(ctx, "before rotation", app.ID, p.Header())), p.Want) {
		return app, 0, false, true, nil
	}
	if err := e.AZ().RotateKey(app.ID, 0); err != nil {
		return nil, 0, false, false, fmt.Errorf("%w: rotate: %v", ErrSetup, err)
	}
	if retire {
		if err := e.AZ().RetireOldKeys(app.ID); err != nil {
			return nil, 0, false, false, fmt.Errorf("%w: retire: %v", ErrSetup, err)
		}
	}
	nf, err := e.AZ().Factory(app.ID)
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("%w: %v", ErrSetup, err)
	}
	newApp := &App{ID: app.ID, Factory: nf, env: e}
	took, ok, err = retry(ctx, e, obs, "new key", app.ID, 15*time.Second, func() (Pair, error) { return newApp.Mint(true, nil, nil) })
	return app, took, ok, false, err
}

func rotation(ctx context.Context, e *Env) (*Observation, error) {
	obs := &Observation{}
	_, took, ok, done, err := rotateAndWait(ctx, e, obs, false)
	if err != nil || done {
		return obs, err
	}
	obs.Fact("new key accepted after", "%s (ok=%v)", took.Round(time.Millisecond), ok)
	return obs, nil
}

func retiredKey(ctx context.Context, e *Env) (*Observation, error) {
	obs := &Observation{}
	oldApp, _, ok, done, err := rotateAndWait(ctx, e, obs, true)
	if err != nil || done {
		return obs, err
	}
	if !ok {
		return obs, Skip("the target never accepted the rotated key within 15 s (see KEY-008), so retirement cannot be observed")
	}
	old, err := oldApp.Mint(true, nil, nil)
	if err != nil {
		return nil, err
	}
	obs.Want = nil
	obs.Add(e.Protected(ctx, "never-seen token signed by the retired key", oldApp.ID, old.Header()))
	return obs, nil
}

func unknownAppFlood(apps, requests, maxFetches int) func(ctx context.Context, e *Env) (*Observation, error) {
	return func(ctx context.Context, e *Env) (*Observation, error) {
		f, err := tf.New(e.AttackerKey(), tf.WithIssuer(e.AZ().URL()))
		if err != nil {
			return nil, err
		}
		ids := make([]string, apps)
		for i := range ids {
			ids[i] = randomGUID()
		}
		before := e.AZ().Stats()
		obs := &Observation{}
		accepted := 0
		for i := range requests {
			id := ids[i%apps]
			tok, err := f.AccessToken(tf.Access{AppID: id, ClientID: e.ClientID()})
			if err != nil {
				return nil, err
			}
			x := e.Protected(ctx, fmt.Sprintf("unknown app %d", i), id, "Bearer "+tok)
			if x.Status == http.StatusOK {
				accepted++
			}
			if i == requests-1 || x.Status == http.StatusOK {
				obs.Add(x)
			}
		}
		after := e.AZ().Stats()
		fetches := 0
		for _, id := range ids {
			fetches += keyFetches(after, id) - keyFetches(before, id)
		}
		obs.Fact("key fetches", "%d for %d requests over %d unknown app id(s)", fetches, requests, apps)
		if accepted > 0 {
			obs.Failf("%d token(s) for unknown apps were accepted", accepted)
		}
		if maxFetches > 0 && fetches > maxFetches {
			obs.Failf("%d key fetches for %d requests (bound %d)", fetches, requests, maxFetches)
		}
		return obs, nil
	}
}

func randomGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func crossAppKey(ctx context.Context, e *Env) (*Observation, error) {
	a, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	b, pb, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, err
	}
	obs := &Observation{}
	if !expectOK(obs, obs.Add(e.Protected(ctx, "valid pair for B", b.ID, pb.Header())), pb.Want) {
		return obs, nil
	}
	forged := &App{ID: b.ID, Factory: a.Factory, env: e}
	p, err := forged.Mint(true, nil, nil)
	if err != nil {
		return nil, err
	}
	obs.Token("access", p.Access)
	obs.Add(e.Protected(ctx, "token for B signed by A's key", b.ID, p.Header()))
	return obs, nil
}

func propagationCases() []Case {
	return []Case{
		{ID: "PRP-001", Area: "propagation", Title: "Propagation forwards the Authorization header byte for byte",
			Rule:   "getAuthorizationHeaderFromIncomingRequest MUST return the incoming header unchanged: the downstream call carries both tokens byte for byte.",
			Refs:   []string{refPropagate},
			Expect: same(Must, Accepted),
			Recipe: propagate("valid pair through /propagate to the sink", func(p Pair) string { return p.Header() })},
		{ID: "PRP-002", Area: "propagation", Title: "Propagation keeps irregular spacing",
			Rule:   "The forwarded header SHOULD be the incoming one unchanged, even with irregular spacing.",
			Refs:   []string{refPropagate},
			Expect: same(Should, Accepted),
			Recipe: propagate("'Bearer  <access>   <id>' through /propagate", func(p Pair) string { return "Bearer  " + p.Access + "   " + p.ID })},
		{ID: "PRP-003", Area: "propagation", Title: "No downstream call when the incoming token is invalid",
			Rule:   "A request with an invalid token MUST be refused before the handler runs: no downstream call is made.",
			Refs:   []string{refPropagate, refContract},
			Expect: must401i,
			Recipe: propagateInvalid("propagate")},
		{ID: "PRP-004", Area: "propagation", Title: "No service call when the incoming token is invalid", Needs: []Need{NeedServiceCredentials},
			Rule:   "A request with an invalid token MUST be refused before the handler runs: no service token is used and no downstream call is made.",
			Refs:   []string{refServiceCall, refContract},
			Expect: must401i,
			Recipe: propagateInvalid("service-call")},
		{ID: "PRP-005", Area: "propagation", Title: "A bad service secret gives a clear error, not a hang", Needs: []Need{NeedServiceCredentials, NeedAZControl},
			Rule:   "When the AZ refuses the target's client credentials, service-call SHOULD fail within the bound with a non-2xx answer and call nothing downstream.",
			Refs:   []string{refServiceCall, "RFC 6749 §5.2 (invalid_client)"},
			Expect: same(Should, NotOK),
			Recipe: Procedure{Doc: "AZ token endpoint answers 401 invalid_client for the target's app; valid pair to /service-call", Fn: badSecret}},
		{ID: "PRP-006", Families: mcaOnly, Area: "propagation", Title: "Service token from client credentials", Needs: []Need{NeedServiceCredentials},
			Rule:   "getAuthorizationHeader MUST return 'Bearer <token>' with a token the AZ issued by client credentials for the target's app (aud = app id, prn = the service client).",
			Refs:   []string{refServiceCall, refAZToken},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "valid pair to /service-call?to=<sink>; the sink's Authorization header is verified with the AZ key", Fn: serviceToken}},
		{ID: "PRP-007", Families: mcaOnly, Area: "propagation", Title: "The service token is accepted by a target", Needs: []Need{NeedServiceCredentials},
			Rule:   "A service token obtained by the target MUST be accepted by a target of the same app, with imf.sub = the service client id.",
			Refs:   []string{refServiceCall, refSeedCtx},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "the service token the sink received, sent to the target's protected route for its app", Fn: serviceTokenAccepted}},
		{ID: "PRP-008", Area: "propagation", Title: "The service token is reused until near expiry", Needs: []Need{NeedServiceCredentials},
			Rule:   "The service token SHOULD be cached until shortly before expires_in: three service calls make at most one token request.",
			Refs:   []string{refServiceCall},
			Expect: same(Should, Accepted),
			Recipe: Procedure{Doc: "three valid /service-call requests; fakeaz counts token requests", Fn: serviceTokenReuse}},
		{ID: "PRP-009", Area: "propagation", Title: "Client-injected identity headers are not forwarded",
			Rule:   "Identity headers a client injects (X-Imf-User, X-Imf-Sub, X-Forwarded-User) MUST NOT be passed downstream as trusted (strict); SHOULD in mca.",
			Refs:   []string{refPropagate},
			Expect: split(exp(Should, Accepted), exp(Must, Accepted)),
			Recipe: Procedure{Doc: "valid pair plus X-Imf-User / X-Imf-Sub / X-Forwarded-User through /propagate", Fn: injectedHeaders}},
	}
}

func propagatePath(appID, route, to string) string {
	return "/v1/apps/" + appID + "/" + route + "?to=" + url.QueryEscape(to)
}

func propagate(doc string, header func(Pair) string) Recipe {
	return Procedure{Doc: doc, Fn: func(ctx context.Context, e *Env) (*Observation, error) {
		app, p, err := freshPair(ctx, e, true)
		if err != nil {
			return nil, err
		}
		to := e.SinkURL()
		h := header(p)
		obs := &Observation{}
		obs.Add(e.Get(ctx, "propagate", propagatePath(app.ID, "propagate", to), http.Header{"Authorization": {h}}))
		got := e.Downstream(to)
		obs.Downstream = got
		switch {
		case len(got) != 1:
			obs.Failf("the sink received %d request(s), want 1", len(got))
		case got[0].Header.Get("Authorization") != h:
			obs.Failf("the sink received Authorization %.80q…, not the incoming header", got[0].Header.Get("Authorization"))
		}
		return obs, nil
	}}
}

func propagateInvalid(route string) Recipe {
	return Procedure{Doc: "expired access token to /" + route + "?to=<sink>", Fn: func(ctx context.Context, e *Env) (*Observation, error) {
		app, p, err := freshPair(ctx, e, true, tf.ExpiredBy(time.Hour))
		if err != nil {
			return nil, err
		}
		to := e.SinkURL()
		obs := &Observation{NoDownstream: true}
		obs.Add(e.Get(ctx, route, propagatePath(app.ID, route, to), http.Header{"Authorization": {p.Header()}}))
		obs.Downstream = e.Downstream(to)
		return obs, nil
	}}
}

func badSecret(ctx context.Context, e *Env) (*Observation, error) {
	if err := e.fault(e.r.HomeAppID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointToken, Status: 401, Body: `{"error":"invalid_client","error_description":"bad client secret"}`}); err != nil {
		return nil, err
	}
	app, p, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, err
	}
	to := e.SinkURL()
	obs := &Observation{}
	obs.Add(e.Get(ctx, "service-call", propagatePath(app.ID, "service-call", to), http.Header{"Authorization": {p.Header()}}))
	if got := e.Downstream(to); len(got) > 0 {
		obs.Downstream = got
		obs.Failf("the target called downstream %d time(s) without a service token", len(got))
	}
	return obs, nil
}

// serviceCall makes one service call and returns the token the sink received.
func serviceCall(ctx context.Context, e *Env, obs *Observation) (string, error) {
	app, p, err := freshPair(ctx, e, true)
	if err != nil {
		return "", err
	}
	to := e.SinkURL()
	obs.Add(e.Get(ctx, "service-call", propagatePath(app.ID, "service-call", to), http.Header{"Authorization": {p.Header()}}))
	got := e.Downstream(to)
	obs.Downstream = append(obs.Downstream, got...)
	if len(got) != 1 {
		obs.Failf("the sink received %d request(s), want 1", len(got))
		return "", nil
	}
	h := got[0].Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.ContainsAny(tok, " \t") {
		obs.Failf("the service call's Authorization is %.60q, want 'Bearer <token>'", h)
		return "", nil
	}
	if tok == p.Access {
		obs.Failf("the service call forwarded the user's access token instead of a service token")
	}
	return tok, nil
}

func serviceToken(ctx context.Context, e *Env) (*Observation, error) {
	obs := &Observation{}
	tok, err := serviceCall(ctx, e, obs)
	if err != nil || tok == "" {
		return obs, err
	}
	obs.Token("service", tok)
	pub, err := e.AZ().PublicKey(e.r.HomeAppID)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSetup, err)
	}
	i := strings.LastIndexByte(tok, '.')
	sig, err := tf.B64.DecodeString(tok[i+1:])
	if err != nil || jwsbb.Verify(pub, tf.RS256, []byte(tok[:i]), sig) != nil {
		obs.Failf("the service token does not verify with the AZ key of app %s", e.r.HomeAppID)
		return obs, nil
	}
	c, err := claims(tok)
	if err != nil {
		return nil, err
	}
	if c["aud"] != e.r.HomeAppID || (e.r.ServiceClientID != "" && c["prn"] != e.r.ServiceClientID) {
		obs.Failf("service token aud=%v prn=%v, want aud=%s prn=%s", c["aud"], c["prn"], e.r.HomeAppID, e.r.ServiceClientID)
	}
	return obs, nil
}

func claims(tok string) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d segments", len(parts))
	}
	raw, err := tf.B64.DecodeString(parts[1])
	if err != nil {
		return nil, err
	}
	var c map[string]any
	return c, json.Unmarshal(raw, &c)
}

func serviceTokenAccepted(ctx context.Context, e *Env) (*Observation, error) {
	obs := &Observation{}
	tok, err := serviceCall(ctx, e, obs)
	if err != nil || tok == "" {
		return obs, err
	}
	c, err := claims(tok)
	if err != nil {
		obs.Failf("service token unreadable: %v", err)
		return obs, nil
	}
	sub, _ := c["prn"].(string)
	obs.Want = &SecurityContext{Sub: sub, User: map[string]any{}, Device: map[string]any{}, Application: map[string]any{}}
	obs.Add(e.Protected(ctx, "service token to the protected route", e.r.HomeAppID, "Bearer "+tok))
	return obs, nil
}

func serviceTokenReuse(ctx context.Context, e *Env) (*Observation, error) {
	obs := &Observation{}
	before := e.AZ().Stats().Count(fakeaz.EndpointToken, e.r.HomeAppID)
	for range 3 {
		if _, err := serviceCall(ctx, e, obs); err != nil {
			return nil, err
		}
	}
	n := e.AZ().Stats().Count(fakeaz.EndpointToken, e.r.HomeAppID) - before
	obs.Fact("token requests", "%d for 3 service calls", n)
	if n > 1 {
		obs.Failf("%d token requests for 3 service calls (want at most 1)", n)
	}
	return obs, nil
}

func injectedHeaders(ctx context.Context, e *Env) (*Observation, error) {
	app, p, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, err
	}
	to := e.SinkURL()
	h := http.Header{"Authorization": {p.Header()}, "X-Imf-User": {`{"id":"admin"}`}, "X-Imf-Sub": {"admin"}, "X-Forwarded-User": {"admin"}}
	obs := &Observation{}
	obs.Add(e.Get(ctx, "propagate with injected headers", propagatePath(app.ID, "propagate", to), h))
	got := e.Downstream(to)
	obs.Downstream = got
	for _, r := range got {
		for _, k := range []string{"X-Imf-User", "X-Imf-Sub", "X-Forwarded-User"} {
			if r.Header.Get(k) != "" {
				obs.Failf("the downstream call carried the client's %s: %q", k, r.Header.Get(k))
			}
		}
	}
	if len(got) == 0 {
		obs.Failf("precondition: no downstream call was made")
	}
	return obs, nil
}

func resilienceCases() []Case {
	return []Case{
		{ID: "RES-001", Area: "resilience", Title: "Slow-loris clients do not starve others",
			Rule:   "While 8 clients trickle their headers a byte at a time, a valid request MUST still be answered within the bound.",
			Refs:   []string{refHygiene},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "8 slow connections open, then one valid pair", Fn: slowLoris}},
		{ID: "RES-002", Area: "resilience", Title: "A claim nested 5,000 arrays deep",
			Rule:   "Deeply nested JSON in a token MUST be refused (or, being validly signed, handled) in bounded time without a crash: a 4xx.",
			Refs:   []string{refHygiene, "RFC 8259 §9 (parsers may limit nesting depth)"},
			Expect: same(Must, Rejected),
			Recipe: Tokens{NoID: true, Access: muts(tf.WithClaim("exp", "bad"), tf.DeepNesting(5000))}},
		{ID: "RES-003", Area: "resilience", Title: "A token with 100,000 claims",
			Rule:   "A token with 10^5 claims MUST be refused with a 4xx in bounded time and memory.",
			Refs:   []string{refHygiene},
			Expect: same(Must, Rejected),
			Recipe: Tokens{NoID: true, Access: muts(tf.ManyClaims(100_000))}},
		{ID: "RES-004", Area: "resilience", Title: "AZ down during a burst of traffic", Needs: []Need{NeedSecondApp, NeedAZControl},
			Rule:   "With the key endpoint failing for one app during 120 concurrent requests, every answer MUST be correct (200 for the app whose key is cached, fail-closed for the other, 401 for expired tokens), none may hang, and the failing app MUST recover.",
			Refs:   []string{refHygiene, refContract, refUnavailable},
			Expect: same(Must, Accepted),
			Recipe: Procedure{Doc: "apps A (key cached) and B (publickey 500); 120 requests at concurrency 8 mixing valid A, valid B and expired A; then B recovers", Fn: outageBurst}},
	}
}

func slowLoris(ctx context.Context, e *Env) (*Observation, error) {
	u, err := url.Parse(e.r.Target)
	if err != nil {
		return nil, err
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
	app, p, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, err
	}
	obs := &Observation{Want: p.Want}
	obs.Add(e.Protected(ctx, "valid pair with slow clients connected", app.ID, p.Header()))
	obs.Fact("slow connections", "%d", len(conns))
	return obs, nil
}

func outageBurst(ctx context.Context, e *Env) (*Observation, error) {
	a, pa, err := freshPair(ctx, e, true)
	if err != nil {
		return nil, err
	}
	b, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	obs := &Observation{}
	if !expectOK(obs, obs.Add(e.Protected(ctx, "cache app A's key", a.ID, pa.Header())), pa.Want) {
		return obs, nil
	}
	if err := e.fault(b.ID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500}); err != nil {
		return nil, err
	}
	type job struct {
		app  string
		pair Pair
		want Outcome
	}
	var jobs []job
	for i := range 120 {
		var j job
		switch i % 3 {
		case 0:
			p, err := a.Mint(true, nil, nil)
			if err != nil {
				return nil, err
			}
			j = job{a.ID, p, Accepted}
		case 1:
			p, err := b.Mint(true, nil, nil)
			if err != nil {
				return nil, err
			}
			j = job{b.ID, p, FailClosed}
		default:
			p, err := a.Mint(true, muts(tf.ExpiredBy(time.Hour)), nil)
			if err != nil {
				return nil, err
			}
			j = job{a.ID, p, InvalidToken}
		}
		jobs = append(jobs, j)
	}
	var mu sync.Mutex
	wrong := map[Outcome]int{}
	var slowest time.Duration
	work := make(chan job)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				x := e.Protected(ctx, "burst", j.app, j.pair.Header())
				ok, _ := j.want.Match(&x, j.pair.Want)
				mu.Lock()
				slowest = max(slowest, x.Latency)
				if !ok || x.Latency > e.r.bound() {
					wrong[j.want]++
				}
				mu.Unlock()
			}
		}()
	}
	for _, j := range jobs {
		work <- j
	}
	close(work)
	wg.Wait()
	obs.Fact("slowest", "%s", slowest.Round(time.Millisecond))
	for o, n := range wrong {
		obs.Failf("%d of 40 requests expecting %s got something else", n, o)
	}
	e.AZ().ClearFaults()
	took, ok, err := retry(ctx, e, obs, "app B after recovery", b.ID, 10*time.Second, func() (Pair, error) { return b.Mint(true, nil, nil) })
	if err != nil {
		return nil, err
	}
	obs.Fact("B recovered after", "%s (ok=%v)", took.Round(time.Millisecond), ok)
	return obs, nil
}
