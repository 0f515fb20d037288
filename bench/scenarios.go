package bench

import (
	"context"
	cryptorand "crypto/rand"
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/sleep"
	"github.com/mcaspec/mcaspec/tokenfactory"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Scenario is a named, documented load shape.
type Scenario struct {
	Name string `json:"name"`
	Doc  string `json:"doc"`
	// prepare builds the load of one attack against one target (called
	// again for every find-max step, so "fresh" stays fresh).
	prepare func(ctx context.Context, r *runner, t *running) (*load, error)
	// closed, when set, drives the scenario itself (closed model) instead
	// of a vegeta attack.
	closed func(ctx context.Context, r *runner, t *running, o attackOpts) (*Attack, error)
	// needs is what the scenario needs of the AZ.
	needs need
}

// need is what a scenario needs of the AZ the targets trust.
type need int

const (
	// needTokens: valid tokens only (given tokens will do).
	needTokens need = iota
	// needMint: minting tokens (the in-process AZ or a RemoteAZ's key).
	needMint
	// needControl: driving the AZ too (register apps, faults, counters).
	needControl
)

// tokenScenarios are the scenarios given tokens allow.
func tokenScenarios() []string {
	var n []string
	for _, s := range registry() {
		if s.needs == needTokens {
			n = append(n, s.Name)
		}
	}
	return n
}

// registry returns the scenarios in their documented order. It is built on
// each call: the package holds no mutable state.
func registry() []Scenario {
	return []Scenario{
		{Name: "hot", prepare: prepareHot, Doc: "One valid token pair, sent on every request: after the first, every request is a cache hit. " +
			"Measures the validation path at its cheapest; compare with the baseline."},
		{Name: "warm", prepare: prepareWarm, Doc: "A pool of distinct valid pairs smaller than the target's cache (WarmSize, at most half the cache), " +
			"sent once before the attack: cache hits over many entries."},
		{Name: "cold", needs: needMint, prepare: prepareCold, Doc: "Distinct valid pairs beyond the cache size (ColdFactor x cache), cycled so that an LRU cache misses " +
			"every time: every request verifies two RSA signatures. Pools are minted in parallel before the attack and reusable from disk (PoolFile); " +
			"the pool is sent once unmeasured first, so the cache is full and the target's heap at its steady size."},
		{Name: "keyfetch", needs: needControl, prepare: prepareKeyfetch, Doc: "Tokens of fresh app ids (KeyfetchApps apps x KeyfetchPairs pairs, new apps for every attack): " +
			"the target must fetch each app's key. The fake AZ counts fetches (figures keyFetches, fetchesPerApp); 503 is accepted (fail closed, e.g. a fetch rate limit)."},
		{Name: "invalid-flood", prepare: prepareFlood, Doc: "Broken tokens only: one in eight a named tokenfactory mutation of a valid token (expired, wrong aud, alg none, forged signature...), " +
			"the rest distinct random signatures over one valid payload (cheap to make, FloodDistinct of them, default a new one per request). Every answer must be a 4xx."},
		{Name: "propagation", needs: needMint, prepare: preparePropagation, Doc: "Valid pairs through /propagate and /service-call to a loopback sink: the sink must receive exactly the caller's " +
			"Authorization header (propagate) or a token of the target's service client (service-call), never the injected " + injectHeader + " header."},
		{Name: "fleet", needs: needMint, closed: runFleet, Doc: "A fakedevice fleet (FleetSize devices) doing the full mobile flow (register, authorize, token) against the fake AZ, " +
			"then FleetCalls calls each to /protected: a closed model, offered rate 0; the reported identity must be the device's."},
		{Name: "outage", needs: needControl, prepare: prepareOutage, Doc: "Cached-key traffic plus probes of fresh app ids while the AZ key endpoint fails: normal for the first third, " +
			"500s for a sixth, hanging for a sixth, then normal. Cached-key requests must stay 200; probes 200 or 503; nothing may hang " +
			"(HangThreshold). Figure recoverySeconds: from the fault's end to the first probe answered 200."},
	}
}

// Scenarios lists the registered scenarios.
func Scenarios() []Scenario { return registry() }

// Names lists the scenario names.
func Names() []string {
	var n []string
	for _, s := range registry() {
		n = append(n, s.Name)
	}
	return n
}

// Lookup finds a scenario by name.
func Lookup(name string) (Scenario, bool) {
	for _, s := range registry() {
		if s.Name == name {
			return s, true
		}
	}
	return Scenario{}, false
}

func (r *runner) protectedURL(t *running, appID string) string {
	return t.url + "/v1/apps/" + appID + "/protected"
}

// poolLoad cycles through pairs on /protected, each expecting its own sub.
func (r *runner) poolLoad(t *running, pairs []pooled, label string) *load {
	l := &load{}
	for i, p := range pairs {
		l.expect = append(l.expect, Expectation{Kind: ExpectValid, Label: fmt.Sprintf("%s#%d", label, i), Sub: p.Sub})
		l.items = append(l.items, Item{URL: itemURL(r.protectedURL(t, p.AppID), i), Header: http.Header{"Authorization": {p.header()}}})
	}
	return l
}

func headers(pairs []pooled) []string {
	h := make([]string, len(pairs))
	for i, p := range pairs {
		h[i] = p.header()
	}
	return h
}

// primedPool is the named pool of n pairs (minted once, tagged tag), each
// sent once to t so that its validator has them cached.
func (r *runner) primedPool(ctx context.Context, t *running, name string, tag byte, n int) ([]pooled, error) {
	p, err := r.env.pool(ctx, name, tag, n)
	if err != nil {
		return nil, err
	}
	return p, prime(ctx, r.client, r.protectedURL(t, r.env.app.ID), headers(p))
}

func prepareHot(ctx context.Context, r *runner, t *running) (*load, error) {
	p, err := r.primedPool(ctx, t, "hot", 'h', 1)
	if err != nil {
		return nil, err
	}
	return r.poolLoad(t, p, "hot"), nil
}

func prepareWarm(ctx context.Context, r *runner, t *running) (*load, error) {
	p, err := r.primedPool(ctx, t, "warm", 'w', r.warmSize())
	if err != nil {
		return nil, err
	}
	return r.poolLoad(t, p, "warm"), nil
}

// warmSize is the warm pool size: WarmSize, at most half the smallest
// cache of the run's targets, so that it is warm for every one.
func (r *runner) warmSize() int {
	n := r.cfg.WarmSize
	for _, t := range r.cfg.Targets {
		if c := t.cacheSize(); c > 0 {
			n = min(n, max(1, c/2))
		}
	}
	return n
}

// coldSize is the cold pool size: ColdFactor x the largest cache of the run's targets.
func (r *runner) coldSize() int {
	n := 0
	for _, t := range r.cfg.Targets {
		n = max(n, t.cacheSize())
	}
	return int(float64(n)*r.cfg.ColdFactor + 0.5)
}

func prepareCold(ctx context.Context, r *runner, t *running) (*load, error) {
	p, err := r.env.coldPool(ctx, r.coldSize())
	if err != nil {
		return nil, err
	}
	// The whole pool is sent once, unmeasured: the app's key is then
	// cached (the attack measures verification, not key fetches), the
	// cache full and evicting on every request (the attack cycles the pool
	// in the same order, so an LRU misses every time), and the target's
	// heap at its steady size: the attack measures the steady state, not
	// the cache filling up.
	if err := prime(ctx, r.client, r.protectedURL(t, r.env.app.ID), headers(p)); err != nil {
		return nil, err
	}
	l := r.poolLoad(t, p, "cold")
	l.extra = func(a *Attack) {
		a.setExtra("poolSize", float64(len(p)))
		a.setExtra("cacheSize", float64(t.spec.cacheSize()))
	}
	return l, nil
}

func prepareKeyfetch(ctx context.Context, r *runner, t *running) (*load, error) {
	apps, ids, err := r.env.freshApps(ctx, r.cfg.KeyfetchApps, r.cfg.KeyfetchPairs)
	if err != nil {
		return nil, err
	}
	l := &load{}
	// App-major interleave: request i goes to app i % n, so every app is hit at once.
	for j := range r.cfg.KeyfetchPairs {
		for a := range apps {
			p := apps[a][j]
			l.expect = append(l.expect, Expectation{Kind: ExpectValid, Label: fmt.Sprintf("app%d#%d", a, j), Sub: p.Sub, AllowUnavailable: true})
			l.items = append(l.items, Item{URL: itemURL(r.protectedURL(t, p.AppID), len(l.expect)-1), Header: http.Header{"Authorization": {p.header()}}})
		}
	}
	before, _ := r.env.stats(ctx)
	l.extra = func(a *Attack) {
		st, ok := r.env.stats(context.Background())
		if !ok {
			return
		}
		most, total := 0, 0
		for _, id := range ids {
			n := st.Count(fakeaz.EndpointPublicKey, id) - before.Count(fakeaz.EndpointPublicKey, id)
			total += n
			most = max(most, n)
		}
		a.setExtra("freshApps", float64(len(ids)))
		a.setExtra("keyFetchesFreshApps", float64(total))
		a.setExtra("maxFetchesPerApp", float64(most))
	}
	return l, nil
}

// floodSkip lists the mutations of tokenfactory.All left out of
// invalid-flood: the huge ones (tens of KiB per request would measure the
// network, not the validator), and those whose refusal is not a MUST in
// every profile of the conformance rules (shared/cases.md E, F, B: iat in
// the future and aud as an array are informational; no exp, no aud, a
// wrong or missing iss, nbf in the future depend on the profile; iat/nbf
// retyped and a missing prn are not named there). A target accepting
// them gives no wrong answer here; the conformance suite judges them.
var floodSkip = []string{"oversized", "many-claims", "deep-nesting",
	"iat-in/", "aud/array", "no-exp", "no-aud", "no-iss", "iss/", "nbf-in/", "retype/iat", "retype/nbf", "no-prn"}

// floodMutations are the named mutations of invalid-flood: tokens every
// validator must refuse.
func floodMutations(attacker *tokenfactory.Factory) ([]tokenfactory.Mutation, error) {
	all, err := tokenfactory.All(tokenfactory.Params{Attacker: attacker.Key()})
	if err != nil {
		return nil, err
	}
	var out []tokenfactory.Mutation
next:
	for _, m := range all {
		for _, p := range floodSkip {
			if strings.HasPrefix(m.Name, p) {
				continue next
			}
		}
		out = append(out, m)
	}
	return out, nil
}

func prepareFlood(ctx context.Context, r *runner, t *running) (*load, error) {
	hot, err := r.primedPool(ctx, t, "hot", 'h', 1)
	if err != nil {
		return nil, err
	}
	named, err := r.floodTokens()
	if err != nil {
		return nil, err
	}
	u := r.protectedURL(t, r.env.app.ID)
	l := &load{expect: []Expectation{{Kind: ExpectRefused, Label: "random-signature"}}}
	var named_ []Item
	for _, n := range named {
		l.expect = append(l.expect, Expectation{Kind: ExpectRefused, Label: n.name})
		named_ = append(named_, Item{URL: itemURL(u, len(l.expect)-1), Header: http.Header{"Authorization": {n.header}}})
	}
	// Random signatures over the valid access token's header and payload.
	access := hot[0].Access
	prefix := "Bearer " + access[:strings.LastIndexByte(access, '.')+1]
	sigLen := len(access) - strings.LastIndexByte(access, '.') - 1
	raw := base64.RawURLEncoding.DecodedLen(sigLen)
	randURL := itemURL(u, 0)
	seed, distinct := r.cfg.Seed, r.cfg.FloodDistinct
	l.gen = func(i uint64) Item {
		if i%8 == 0 && len(named_) > 0 {
			return named_[(i/8)%uint64(len(named_))]
		}
		k := i
		if distinct > 0 {
			k = i % distinct
		}
		rng := rand.NewPCG(seed, k)
		sig := make([]byte, raw+8)
		for j := 0; j < len(sig); j += 8 {
			v := rng.Uint64()
			for b := 0; b < 8 && j+b < len(sig); b++ {
				sig[j+b] = byte(v >> (8 * b))
			}
		}
		return Item{URL: randURL, Header: http.Header{"Authorization": {prefix + base64.RawURLEncoding.EncodeToString(sig[:raw])}}}
	}
	l.extra = func(a *Attack) { a.setExtra("namedMutations", float64(len(named_))) }
	return l, nil
}

type namedToken struct{ name, header string }

// floodTokens mints (once per run) every named mutation of an access token,
// with a valid id token beside it.
func (r *runner) floodTokens() ([]namedToken, error) {
	r.floodOnce.Do(func() {
		f := r.env.factory
		attacker, err := r.env.attacker()
		if err != nil {
			r.floodErr = err
			return
		}
		if f == nil { // given tokens: derive broken variants of the first one
			r.flood, r.floodErr = r.derivedFlood(attacker)
			return
		}
		muts, err := floodMutations(attacker)
		if err != nil {
			r.floodErr = err
			return
		}
		c := r.env.clientID('f', 0)
		id, err := f.IDToken(tokenfactory.ID{AppID: r.env.app.ID, ClientID: c})
		if err != nil {
			r.floodErr = err
			return
		}
		for _, m := range muts {
			at, err := f.AccessToken(tokenfactory.Access{AppID: r.env.app.ID, ClientID: c}, m)
			if err != nil {
				r.floodErr = fmt.Errorf("bench: mutation %s: %w", m.Name, err)
				return
			}
			r.flood = append(r.flood, namedToken{m.Name, "Bearer " + at + " " + id})
		}
	})
	return r.flood, r.floodErr
}

func preparePropagation(ctx context.Context, r *runner, t *running) (*load, error) {
	p, err := r.env.pool(ctx, "prop", 'p', min(8, max(1, r.cfg.WarmSize)))
	if err != nil {
		return nil, err
	}
	if err := prime(ctx, r.client, r.protectedURL(t, r.env.app.ID), headers(p)); err != nil {
		return nil, err
	}
	to := url.QueryEscape(r.env.sink.url)
	l := &load{}
	for i, pr := range p {
		h := pr.header()
		base := t.url + "/v1/apps/" + pr.AppID
		l.expect = append(l.expect, Expectation{Kind: ExpectPropagated, Label: fmt.Sprintf("propagate#%d", i), AuthSHA256: authHash(h)})
		l.items = append(l.items, Item{URL: itemURL(base+"/propagate?to="+to, len(l.expect)-1), Header: http.Header{"Authorization": {h}, injectHeader: {"injected-admin"}}})
		l.expect = append(l.expect, Expectation{Kind: ExpectServiceCall, Label: fmt.Sprintf("service-call#%d", i), ServiceClient: r.env.svcClient})
		l.items = append(l.items, Item{URL: itemURL(base+"/service-call?to="+to, len(l.expect)-1), Header: http.Header{"Authorization": {h}, injectHeader: {"injected-admin"}}})
	}
	before, _ := r.env.stats(ctx)
	l.extra = func(a *Attack) {
		if after, ok := r.env.stats(context.Background()); ok {
			a.setExtra("serviceTokenRequests", float64(after.Count(fakeaz.EndpointToken, r.env.app.ID)-before.Count(fakeaz.EndpointToken, r.env.app.ID)))
		}
	}
	return l, nil
}

func prepareOutage(ctx context.Context, r *runner, t *running) (*load, error) {
	hot, err := r.primedPool(ctx, t, "hot", 'h', 1)
	if err != nil {
		return nil, err
	}
	apps, _, err := r.env.freshApps(ctx, r.cfg.OutageApps, 1)
	if err != nil {
		return nil, err
	}
	l := &load{failOnHang: true}
	l.expect = append(l.expect, Expectation{Kind: ExpectValid, Label: "cached-key", Sub: hot[0].Sub})
	hotItem := Item{URL: itemURL(r.protectedURL(t, hot[0].AppID), 0), Header: http.Header{"Authorization": {hot[0].header()}}}
	probes := make([]Item, len(apps))
	for i, a := range apps {
		l.expect = append(l.expect, Expectation{Kind: ExpectValid, Label: fmt.Sprintf("probe-app%d", i), Sub: a[0].Sub, AllowUnavailable: true})
		probes[i] = Item{URL: itemURL(r.protectedURL(t, a[0].AppID), len(l.expect)-1), Header: http.Header{"Authorization": {a[0].header()}}}
	}
	o := &outageRun{env: r.env, hotItem: hotItem, probes: probes}
	l.during = o.during
	l.gen = o.gen
	l.observe = o.observe
	l.extra = o.extra
	return l, nil
}

// outageRun is the outage scenario's schedule and its probes' account:
// the key endpoint fails (500 with garbage, then hangs) from a third to two
// thirds of the attack, while every fifth request probes a fresh app.
type outageRun struct {
	env     *env
	hotItem Item
	probes  []Item

	mu                      sync.Mutex
	began, faultAt, clearAt time.Time
	dur                     time.Duration
	firstOK                 time.Time
	probeOKDuring, probe503 int
}

// during runs the fault schedule over the attack that began at b and lasts d.
func (o *outageRun) during(ctx context.Context, b time.Time, d time.Duration) {
	o.mu.Lock()
	o.began, o.dur = b, d
	o.mu.Unlock()
	step := func(at time.Duration) bool { return sleep.Until(ctx, b.Add(at)) == nil }
	// Fault changes use their own deadline: the last clear must
	// happen even when the attack's context has ended.
	az := func(f func(context.Context) error) {
		cctx, cancel := context.WithTimeout(context.Background(), DefaultTimeout)
		defer cancel()
		_ = f(cctx)
	}
	clear := func() { az(o.env.az.ClearFaults) }
	set := func(f fakeaz.FaultSpec) {
		az(func(ctx context.Context) error { return o.env.az.SetFault(ctx, f) })
	}
	defer clear()
	if !step(d / 3) {
		return
	}
	o.mu.Lock()
	o.faultAt = time.Now()
	o.mu.Unlock()
	set(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: http.StatusInternalServerError, Body: fakeaz.GarbageBody})
	if !step(d / 2) {
		return
	}
	clear()
	set(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Hang: true})
	if !step(2 * d / 3) {
		return
	}
	clear()
	o.mu.Lock()
	o.clearAt = time.Now()
	o.mu.Unlock()
}

// gen makes request i. Probes: every fifth request, for the app of the
// current time slot.
func (o *outageRun) gen(i uint64) Item {
	if i%5 != 0 {
		return o.hotItem
	}
	o.mu.Lock()
	b, d := o.began, o.dur
	o.mu.Unlock()
	slot := 0
	if d > 0 && !b.IsZero() {
		slot = int(time.Since(b) * time.Duration(len(o.probes)) / d)
	}
	return o.probes[min(max(slot, 0), len(o.probes)-1)]
}

// observe counts the probes' 503s, their successes during the fault, and
// the end of the first success after it cleared.
func (o *outageRun) observe(res *vegeta.Result, e *Expectation, v Verdict) {
	if !e.AllowUnavailable {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	end := res.End()
	if v == CorrectUnavailable {
		o.probe503++
	}
	if v == Correct && !o.faultAt.IsZero() && res.Timestamp.After(o.faultAt) && (o.clearAt.IsZero() || res.Timestamp.Before(o.clearAt)) {
		o.probeOKDuring++
	}
	if v == Correct && !o.clearAt.IsZero() && res.Timestamp.After(o.clearAt) && (o.firstOK.IsZero() || end.Before(o.firstOK)) {
		o.firstOK = end
	}
}

// extra records the probes' account on the attack.
func (o *outageRun) extra(a *Attack) {
	o.mu.Lock()
	defer o.mu.Unlock()
	a.setExtra("probe503", float64(o.probe503))
	a.setExtra("probeOKDuringFault", float64(o.probeOKDuring))
	if !o.clearAt.IsZero() && !o.firstOK.IsZero() {
		a.setExtra("recoverySeconds", o.firstOK.Sub(o.clearAt).Seconds())
	} else {
		a.setExtra("recoverySeconds", -1)
	}
}

// derivedFlood makes the named broken variants of the first given token:
// the mutations that only edit a finished token, applied to its access
// token (the id token beside it unchanged).
func (r *runner) derivedFlood(attacker *tokenfactory.Factory) ([]namedToken, error) {
	hot, err := r.env.pool(context.Background(), "hot", 'h', 1)
	if err != nil {
		return nil, err
	}
	muts, err := derivedMutations(attacker)
	if err != nil {
		return nil, err
	}
	id := ""
	if hot[0].ID != "" {
		id = " " + hot[0].ID
	}
	env := tokenfactory.Env{Now: r.cfg.Clock(), Key: attacker.Key(), Rand: cryptorand.Reader, Issuer: attacker.Issuer()}
	var out []namedToken
	for _, m := range muts {
		at, err := m.After(hot[0].Access, env)
		if err != nil {
			return nil, fmt.Errorf("bench: mutation %s: %w", m.Name, err)
		}
		out = append(out, namedToken{m.Name, "Bearer " + at + id})
	}
	return out, nil
}
