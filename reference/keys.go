package reference

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// maxKeyBody bounds a publickey response body.
const maxKeyBody = 64 << 10

// retiredGen marks an appKey evicted from the key cache: entries that
// reference it are never served again.
const retiredGen = ^uint64(0)

// appKey is the cached public key of one app.
type appKey struct {
	// gen changes whenever the key changes (and becomes retiredGen on
	// eviction); cached security contexts store the gen they were verified
	// under and are served only while it is current.
	gen atomic.Uint64

	mu          sync.Mutex
	pub         *publicKey
	expires     time.Time // end of the key TTL
	lastRefetch time.Time // start of the last refetch after a signature failure
	refetching  bool      // a refetch is in flight (others join it)
	failUntil   time.Time // negative cache
	failErr     *Error
}

// keyStore fetches and caches public keys per app id.
type keyStore struct {
	cfg    *Config
	url    func(appID string) string
	cache  *lru.Cache[string, *appKey]
	flight singleflight.Group
	// unknown remembers app ids that never had a key and whose fetch
	// failed (the AZ answered 404, or was down), each until its NegativeTTL
	// ends: bounded, and apart from the key cache, so that a flood of junk
	// app ids never evicts a good key.
	unknown *lru.Cache[string, *appKey]
	// newApp is the budget of fetches for app ids without a key; demand
	// holds a share of it back for the app id most asked for among those
	// the budget refused (see demand).
	newApp bucket
	demand demand
	// fetches counts the fetches started (for tests and benchmarks).
	fetches atomic.Int64
}

func newKeyStore(cfg *Config) (*keyStore, error) {
	size := cfg.CacheSize
	if size < 0 {
		size = DefaultCacheSize
	}
	c, err := lru.NewWithEvict(size, func(_ string, k *appKey) {
		k.mu.Lock()
		k.gen.Store(retiredGen)
		k.mu.Unlock()
	})
	if err != nil {
		return nil, fmt.Errorf("%w: key cache: %w", ErrConfig, err)
	}
	unknown, err := lru.New[string, *appKey](size)
	if err != nil {
		return nil, fmt.Errorf("%w: negative key cache: %w", ErrConfig, err)
	}
	rate, burst := cfg.NewAppFetchRate, float64(cfg.NewAppFetchBurst)
	rRate, rBurst := rate/reserveShare, max(1, float64(int(burst/reserveShare)))
	ks := &keyStore{
		cfg:     cfg,
		cache:   c,
		unknown: unknown,
		newApp:  bucket{rate: rate - rRate, burst: max(1, burst-rBurst), tokens: max(1, burst-rBurst)},
		demand:  demand{reserve: bucket{rate: rRate, burst: rBurst, tokens: rBurst}, counts: map[string]int{}},
	}
	ks.url = func(appID string) string {
		return cfg.ServerURL + "/authorization/v1/apps/" + url.PathEscape(appID) + "/publickey"
	}
	return ks, nil
}

// get returns the app's key and the appKey holding it, fetching it when it
// is unknown or its TTL has passed. Errors are *Error (503, or 401 for an
// app the AZ does not know).
func (ks *keyStore) get(ctx context.Context, appID string) (keyed, *Error) {
	now := ks.cfg.Clock()
	k, ok := ks.cache.Get(appID)
	if ok {
		k.mu.Lock()
		cur := keyed{k.pub, k, k.gen.Load()}
		expires, failUntil, failErr := k.expires, k.failUntil, k.failErr
		k.mu.Unlock()
		if cur.pub != nil && now.Before(expires) {
			return cur, nil
		}
		if failErr != nil && now.Before(failUntil) {
			return keyed{}, failErr
		}
	} else {
		if u, ok := ks.unknown.Get(appID); ok {
			u.mu.Lock()
			failUntil, failErr := u.failUntil, u.failErr
			u.mu.Unlock()
			if failErr != nil && now.Before(failUntil) {
				return keyed{}, failErr
			}
		}
		if !ks.newApp.allow(now) && !ks.demand.admit(appID, now) {
			return keyed{}, errUnavailable("too many key fetches for new app ids; retry later", nil)
		}
		fresh := &appKey{}
		if prev, found, _ := ks.cache.PeekOrAdd(appID, fresh); found {
			k = prev
		} else {
			k = fresh
		}
	}
	return ks.fetchInto(ctx, appID, k)
}

// keyed is a public key with the appKey holding it and its generation.
type keyed struct {
	pub *publicKey
	k   *appKey
	gen uint64
}

// refresh refetches the app's key after a signature failure under old, at
// most once per RefetchInterval. ok is true when a different key is now
// installed.
func (ks *keyStore) refresh(ctx context.Context, appID string, old keyed) (keyed, bool) {
	now := ks.cfg.Clock()
	k := old.k
	k.mu.Lock()
	if g := k.gen.Load(); g != old.gen && g != retiredGen && k.pub != nil {
		cur := keyed{k.pub, k, g} // someone else already installed a newer key
		k.mu.Unlock()
		return cur, true
	}
	recent := !k.lastRefetch.IsZero() && now.Sub(k.lastRefetch) < ks.cfg.RefetchInterval
	join := recent && k.refetching
	if !recent {
		k.lastRefetch, k.refetching = now, true
	}
	k.mu.Unlock()
	if recent && !join {
		return keyed{}, false
	}
	cur, err := ks.fetchInto(ctx, appID, k)
	if !join {
		k.mu.Lock()
		k.refetching = false
		k.mu.Unlock()
	}
	if err != nil || cur.gen == old.gen {
		return keyed{}, false
	}
	return cur, true
}

// fetchInto fetches the app's key once for all concurrent callers and
// stores the outcome in k. The caller waits at most until its ctx is done;
// the fetch itself is bounded by FetchTimeout.
func (ks *keyStore) fetchInto(ctx context.Context, appID string, k *appKey) (keyed, *Error) {
	ch := ks.flight.DoChan(appID, func() (any, error) {
		ks.fetches.Add(1)
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ks.cfg.FetchTimeout)
		defer cancel()
		pub, ferr := ks.fetch(fctx, appID)
		if ferr != nil {
			return ks.failed(appID, k, ferr)
		}
		now := ks.cfg.Clock()
		k.mu.Lock()
		defer k.mu.Unlock()
		if k.pub == nil || !k.pub.rsa.Equal(pub) {
			if k.gen.Load() != retiredGen {
				k.gen.Add(1)
			}
			k.pub = newPublicKey(pub) // prepared once per key, not per verify
		}
		k.expires, k.failUntil, k.failErr = now.Add(ks.cfg.KeyTTL), time.Time{}, nil
		return keyed{k.pub, k, k.gen.Load()}, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			var e *Error
			if errors.As(r.Err, &e) {
				return keyed{}, e
			}
			return keyed{}, errUnavailable("public key unavailable", r.Err)
		}
		return r.Val.(keyed), nil
	case <-ctx.Done():
		return keyed{}, errUnavailable("request ended while waiting for the public key", ctx.Err())
	}
}

// failed records a failed fetch of the app's key in k. A refetch that
// failed keeps the key while its TTL lasts. An app that never had a key is
// remembered in the negative cache, apart from the key cache, and fetched
// again only through the new-app budget.
func (ks *keyStore) failed(appID string, k *appKey, ferr *Error) (any, error) {
	ks.cfg.Logger.Warn("reference: public key fetch failed", "app", appID, "err", ferr)
	now := ks.cfg.Clock()
	k.mu.Lock()
	if k.pub != nil && now.Before(k.expires) {
		cur := keyed{k.pub, k, k.gen.Load()}
		k.mu.Unlock()
		return cur, nil // a refetch failed: keep the key we have
	}
	k.pub = nil
	k.failUntil, k.failErr = now.Add(ks.cfg.NegativeTTL), ferr
	never := k.gen.Load() == 0
	k.mu.Unlock()
	if never {
		ks.unknown.Add(appID, k)
		ks.cache.Remove(appID) // its eviction hook locks k.mu
	}
	return nil, ferr
}

// fetch GETs the publickey endpoint. Every failure is an *Error: 401 for an
// app the AZ says does not exist (404), 503 otherwise.
func (ks *keyStore) fetch(ctx context.Context, appID string) (*rsa.PublicKey, *Error) {
	unavailable := func(cause error) *Error {
		return errUnavailable("the authorization server's public key is unavailable; retry later",
			fmt.Errorf("GET %s: %w", ks.url(appID), cause))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ks.url(appID), nil)
	if err != nil {
		return nil, unavailable(err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := ks.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBody+1))
	if err != nil {
		return nil, unavailable(fmt.Errorf("reading body: %w", err))
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		e := errToken("unknown app id")
		e.Err = &wrapped{ErrInvalidToken, fmt.Errorf("GET %s: 404", ks.url(appID))}
		return nil, e
	case resp.StatusCode != http.StatusOK:
		return nil, unavailable(fmt.Errorf("status %d", resp.StatusCode))
	case len(body) > maxKeyBody:
		return nil, unavailable(fmt.Errorf("body longer than %d bytes", maxKeyBody))
	}
	if ks.cfg.InsecureAcceptWeakKeys {
		var k tokenfactory.PublicKeyJSON
		if err := json.Unmarshal(body, &k); err != nil {
			return nil, unavailable(err)
		}
		n, err1 := tokenfactory.DecodeLenient(k.N)
		e, err2 := tokenfactory.DecodeLenient(k.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(e) == 0 || len(e) > 4 {
			return nil, unavailable(errors.New("not an RSA key"))
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	}
	pub, err := tokenfactory.ParsePublicKeyJSON(body)
	if err != nil {
		return nil, unavailable(err)
	}
	if bits := pub.N.BitLen(); bits < MinKeyBits {
		return nil, unavailable(fmt.Errorf("the AZ serves a %d-bit RSA key; at least %d bits are required", bits, MinKeyBits))
	}
	return pub, nil
}

// bucket is a token bucket (rate per second, burst) on an injected clock.
type bucket struct {
	mu     sync.Mutex
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func (b *bucket) allow(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.last.IsZero() && now.After(b.last) {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	if b.last.IsZero() || now.After(b.last) {
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// reserveShare: 1/reserveShare of the new-app budget (rate and burst) is
// held back for the app id most asked for among those the rest refused.
const reserveShare = 5

// Bounds of the demand table.
const (
	maxDemandApps = 4096        // app ids counted at once
	demandWindow  = time.Second // counts are halved every window
)

// demand gives the reserve of the new-app budget to the app id that was
// asked for most often while the budget refused it: a legitimate new app's
// clients retry, so its count grows, while a flood of distinct random app
// ids leaves each at one. An app id needs two refused requests, and at
// least as many as any other, to be fetched from the reserve; once fetched
// it leaves the table (an unknown one is then in the negative cache). The
// table is bounded (maxDemandApps) and ages (counts halve each window).
type demand struct {
	mu      sync.Mutex
	reserve bucket
	counts  map[string]int
	top     int // the highest count
	window  time.Time
}

func (d *demand) admit(appID string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if now.Sub(d.window) >= demandWindow {
		d.age(func(c int) int { return c / 2 })
		d.window = now
	}
	if _, ok := d.counts[appID]; !ok && len(d.counts) >= maxDemandApps {
		d.age(func(c int) int { // make room: drop the app ids asked for once
			if c <= 1 {
				return 0
			}
			return c
		})
		if len(d.counts) >= maxDemandApps {
			return false
		}
	}
	d.counts[appID]++
	c := d.counts[appID]
	d.top = max(d.top, c)
	if c < 2 || c < d.top || !d.reserve.allow(now) {
		return false
	}
	delete(d.counts, appID)
	d.age(func(c int) int { return c }) // recompute top without appID
	return true
}

// age maps every count through f, drops the zeros and recomputes top.
func (d *demand) age(f func(int) int) {
	d.top = 0
	for app, c := range d.counts {
		if c = f(c); c <= 0 {
			delete(d.counts, app)
			continue
		}
		d.counts[app] = c
		d.top = max(d.top, c)
	}
}
