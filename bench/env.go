package bench

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// tokenLifetime of the fake AZ: long enough for pool files to be reused.
const tokenLifetime = 24 * time.Hour

const (
	svcClientID = "bench-service"
	bundleID    = "com.example.bench"
)

// env is what the scenarios of one run share: the fake AZ, the main app and
// its token factory, the sink, and the token pools (minted once).
type env struct {
	cfg *Config
	// az is the AZ the targets trust: the in-process fake AZ (local), a
	// RemoteAZ, or nil with Config.Tokens (a real AZ the bench cannot drive).
	az    azControl
	local *fakeaz.Server
	app   fakeaz.App
	// svcClient and secret are the service client credentials of the
	// targets the bench starts ("" when unknown); svcClient is what
	// /service-call must present downstream.
	svcClient, secret string
	factory           *tokenfactory.Factory
	sink              *sink
	// downstream lets the in-process targets reach the sink.
	downstream downstream.AllowList

	mu      sync.Mutex
	keyNext int
	keys    []*rsa.PrivateKey
	pinned  *rsa.PrivateKey // next key handed out (pool-file reuse)
	// attackerKey signs forged tokens (never the AZ's key).
	attackerKey *rsa.PrivateKey
	pools       map[string][]pooled
	appsMade    int
	poolNote    string
}

// pooled is a valid token pair with the identity the target must report.
type pooled struct {
	tokenfactory.Pair
	Sub  string
	auth string // the Authorization value as given (Config.Tokens); "" derives it from Pair
}

// header is the Authorization header value of p.
func (p pooled) header() string {
	if p.auth != "" {
		return p.auth
	}
	return p.Pair.Header()
}

// poolMeta describes a pool file: the AZ that can verify its tokens.
type poolMeta struct {
	Issuer string `json:"issuer"`
	Listen string `json:"listen"`
	AppID  string `json:"appId"`
	KeyPEM string `json:"keyPem"`
	Shard  string `json:"shard"`
	N      int    `json:"n"`
}

func newEnv(ctx context.Context, cfg *Config, hc *http.Client) (*env, error) {
	e := &env{cfg: cfg, pools: map[string][]pooled{}}
	e.keys = cfg.Keys
	switch {
	case len(cfg.Tokens) > 0:
		return e.openTokens()
	case cfg.AZ != nil:
		return e.openRemote(ctx, hc)
	}
	if len(e.keys) == 0 {
		keys, err := generateAZKeys()
		if err != nil {
			return nil, err
		}
		e.keys = keys
	}
	var meta *poolMeta
	listen := "127.0.0.1:0"
	if cfg.PoolFile != "" {
		if m, key, err := readMeta(cfg.PoolFile); err == nil && m.Shard == cfg.Shard.String() {
			meta, e.pinned, listen = m, key, m.Listen
		}
	}
	sec := make([]byte, 12)
	_, _ = rand.Read(sec)
	e.secret = base64.RawURLEncoding.EncodeToString(sec)
	if err := e.startLocalAZ(listen); err != nil {
		if meta == nil {
			return nil, fmt.Errorf("bench: fake AZ: %w", err)
		}
		// The pool file's port is taken: its tokens cannot be verified; re-mint.
		e.poolNote = fmt.Sprintf("pool file %s not reused: its AZ address %s is busy (%v)", cfg.PoolFile, listen, err)
		meta, e.pinned = nil, nil
		if err := e.startLocalAZ("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("bench: fake AZ: %w", err)
		}
	}
	appID := ""
	if meta != nil {
		appID = meta.AppID
	}
	var err error
	e.svcClient = svcClientID
	e.app, err = e.local.AddApp(fakeaz.App{ID: appID, BundleID: bundleID, ServiceClients: []fakeaz.ServiceClient{{ClientID: svcClientID, Secret: e.secret}}})
	if err == nil {
		e.factory, err = e.local.Factory(e.app.ID)
	}
	if err == nil {
		e.sink, err = startSink(cfg.SinkListen, cfg.SinkURL)
	}
	if err != nil {
		_ = e.Close()
		return nil, fmt.Errorf("bench: setting up the fake AZ: %w", err)
	}
	if meta != nil && meta.Issuer == e.az.URL() {
		if pairs, err := readPool(cfg.PoolFile, cfg.Clock()); err == nil {
			e.pools["cold-file"] = pairs
			e.poolNote = fmt.Sprintf("reused %d pairs from %s", len(pairs), cfg.PoolFile)
		} else {
			e.poolNote = fmt.Sprintf("pool file %s not reused: %v", cfg.PoolFile, err)
		}
	}
	return e, nil
}

// generateAZKeys makes the two RSA-2048 keys the fake AZ hands its apps
// in turn, both at once.
func generateAZKeys() ([]*rsa.PrivateKey, error) {
	var wg sync.WaitGroup
	keys := make([]*rsa.PrivateKey, 2)
	errs := make([]error, 2)
	for i := range keys {
		wg.Add(1)
		go func() { defer wg.Done(); keys[i], errs[i] = rsa.GenerateKey(rand.Reader, 2048) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("bench: generating AZ keys: %w", err)
	}
	return keys, nil
}

// startLocalAZ starts the in-process fake AZ on addr; on failure e has none.
func (e *env) startLocalAZ(addr string) error {
	local, err := fakeaz.New(fakeaz.WithKeyGen(e.nextKey), fakeaz.WithTokenLifetime(tokenLifetime))
	if err != nil {
		return err
	}
	e.local = local
	if err := e.local.Start(addr); err != nil {
		_ = e.local.Close()
		e.local = nil
		return err
	}
	e.az = localAZ{e.local}
	return nil
}

// nextKey hands the fake AZ its app keys: the pool file's key first, then
// the configured keys in turn (generating RSA keys per app would dominate
// the keyfetch and outage scenarios).
func (e *env) nextKey() (*rsa.PrivateKey, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if k := e.pinned; k != nil {
		e.pinned = nil
		return k, nil
	}
	k := e.keys[e.keyNext%len(e.keys)]
	e.keyNext++
	return k, nil
}

func (e *env) Close() error {
	var errs []error
	if e.sink != nil {
		errs = append(errs, e.sink.Close())
	}
	if e.local != nil {
		errs = append(errs, e.local.Close())
	}
	return errors.Join(errs...)
}

// clientID makes a 40-hex client id unique to (shard, pool tag, i).
func (e *env) clientID(tag byte, i int) string {
	return fmt.Sprintf("%02x%02x%036x", e.cfg.Shard.Index, tag, i)
}

// mint makes n distinct valid pairs for app, with id tokens of a user.
func (e *env) mint(ctx context.Context, f *tokenfactory.Factory, appID string, tag byte, n int, accessOnly bool) ([]pooled, error) {
	var progress func(int)
	if w := e.cfg.Progress; w != nil {
		progress = func(done int) { fmt.Fprintf(w, "minting token pairs: %d/%d\n", done, n) }
	}
	pairs, err := f.Pool(ctx, tokenfactory.PoolSpec{N: n, Progress: progress, Make: func(i int) (tokenfactory.Access, *tokenfactory.ID) {
		c := e.clientID(tag, i)
		if accessOnly {
			return tokenfactory.Access{AppID: appID, ClientID: c}, nil
		}
		return tokenfactory.Access{AppID: appID, ClientID: c}, &tokenfactory.ID{
			AppID: appID, ClientID: c,
			User:        &tokenfactory.User{ID: fmt.Sprintf("user-%d", i), AuthBy: "benchRealm", DisplayName: "Bench User"},
			Device:      tokenfactory.Device{ID: "dev-" + c[:12], Platform: "iOS", Model: "iPhone", OSVersion: "17.2"},
			Application: tokenfactory.Application{ID: bundleID, Version: "1.0"},
		}
	}})
	if err != nil {
		return nil, fmt.Errorf("bench: minting %d token pairs: %w", n, err)
	}
	out := make([]pooled, len(pairs))
	for i, p := range pairs {
		out[i] = pooled{Pair: p, Sub: subOf(p)}
	}
	return out, nil
}

// subOf decodes the subject the target must report for p.
func subOf(p tokenfactory.Pair) string {
	if p.ID == "" {
		return p.ClientID
	}
	sub, _ := tokenfactory.Inspect(p.ID).StringClaim("sub")
	return sub
}

// pool returns (minting once) a named pool of the main app.
func (e *env) pool(ctx context.Context, name string, tag byte, n int) ([]pooled, error) {
	return e.poolOf(ctx, name, tag, n, false)
}

func (e *env) poolOf(ctx context.Context, name string, tag byte, n int, accessOnly bool) ([]pooled, error) {
	e.mu.Lock()
	p, ok := e.pools[name]
	e.mu.Unlock()
	if ok && len(p) >= n {
		return p[:n], nil
	}
	if e.factory == nil { // Config.Tokens: what was given is all there is
		if ok && len(p) > 0 {
			return p, nil
		}
		return nil, fmt.Errorf("%w: no %s tokens: this run sends given tokens only", ErrConfig, name)
	}
	p, err := e.mint(ctx, e.factory, e.app.ID, tag, n, accessOnly)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.pools[name] = p
	e.mu.Unlock()
	return p, nil
}

// coldPool returns n pairs, from the pool file when it holds enough, else
// minted (and written to the pool file).
func (e *env) coldPool(ctx context.Context, n int) ([]pooled, error) {
	e.mu.Lock()
	f := e.pools["cold-file"]
	e.mu.Unlock()
	if len(f) >= n && (f[0].ID == "") == e.cfg.ColdAccessOnly {
		return f[:n], nil
	}
	p, err := e.poolOf(ctx, "cold", 'c', n, e.cfg.ColdAccessOnly)
	if err != nil || e.cfg.PoolFile == "" || e.local == nil {
		return p, err
	}
	if err := e.writePool(p); err != nil {
		e.poolNote = fmt.Sprintf("pool file not written: %v", err)
	} else {
		e.poolNote = fmt.Sprintf("minted %d pairs, saved to %s", len(p), e.cfg.PoolFile)
	}
	return p, nil
}

// freshApps registers n new apps (ids the targets have never seen) and mints
// pairs pairs for each.
func (e *env) freshApps(ctx context.Context, n, pairs int) ([][]pooled, []string, error) {
	out := make([][]pooled, n)
	ids := make([]string, n)
	for i := range n {
		app, err := e.az.AddApp(ctx, fakeaz.App{BundleID: bundleID})
		if err != nil {
			return nil, nil, fmt.Errorf("bench: registering a fresh app: %w", err)
		}
		f, err := e.az.Factory(app.ID)
		if err != nil {
			return nil, nil, err
		}
		e.mu.Lock()
		e.appsMade++
		tag := byte(e.appsMade)
		e.mu.Unlock()
		if out[i], err = e.mint(ctx, f, app.ID, tag, pairs, false); err != nil {
			return nil, nil, err
		}
		ids[i] = app.ID
	}
	return out, ids, nil
}

func (e *env) writePool(p []pooled) error {
	pairs := make([]tokenfactory.Pair, len(p))
	for i := range p {
		pairs[i] = p[i].Pair
	}
	if err := fileio.WriteWith(e.cfg.PoolFile, 0o600, func(w io.Writer) error { return tokenfactory.WritePool(w, pairs) }); err != nil {
		return err
	}
	der := x509.MarshalPKCS1PrivateKey(e.factory.Key())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(e.az.URL(), fakeaz.BasePath), "http://"))
	m := poolMeta{Issuer: e.az.URL(), Listen: "127.0.0.1:" + port, AppID: e.app.ID, Shard: e.cfg.Shard.String(), N: len(p),
		KeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: der}))}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return fileio.WriteFile(e.cfg.PoolFile+".meta.json", b, 0o600)
}

func readMeta(path string) (*poolMeta, *rsa.PrivateKey, error) {
	b, err := fileio.ReadFile(path+".meta.json", maxPoolMeta)
	if err != nil {
		return nil, nil, err
	}
	var m poolMeta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, nil, fmt.Errorf("%s.meta.json: %w", path, err)
	}
	blk, _ := pem.Decode([]byte(m.KeyPEM))
	if blk == nil {
		return nil, nil, fmt.Errorf("%s.meta.json: no key", path)
	}
	k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
	if err != nil {
		return nil, nil, err
	}
	if host, _, err := net.SplitHostPort(m.Listen); err != nil || host != "127.0.0.1" {
		return nil, nil, fmt.Errorf("%s.meta.json: listen %q is not a loopback address", path, m.Listen)
	}
	return &m, k, nil
}

func readPool(path string, now time.Time) ([]pooled, error) {
	b, err := fileio.ReadFile(path, maxPoolFile)
	if err != nil {
		return nil, err
	}
	pairs, err := tokenfactory.ReadPool(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	out := make([]pooled, len(pairs))
	for i, p := range pairs {
		if p.Exp < now.Add(10*time.Minute).Unix() {
			return nil, fmt.Errorf("pair %d expires at %s: re-minting", i+1, time.Unix(p.Exp, 0).UTC().Format(time.RFC3339))
		}
		out[i] = pooled{Pair: p, Sub: subOf(p)}
	}
	return out, nil
}

// prime sends every header once to url (unrecorded), so that caches hold
// what the scenario expects to be cached. Bounded by count and 60 s.
func prime(ctx context.Context, client *http.Client, url string, headers []string) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, h := range headers {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			req, err := http.NewRequestWithContext(gctx, http.MethodGet, url, nil)
			if err != nil {
				return err
			}
			req.Header.Set("Authorization", h)
			resp, err := client.Do(req)
			if err != nil {
				return fmt.Errorf("bench: priming %s: %w", url, err)
			}
			_ = resp.Body.Close()
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

// openTokens sets up a run with given tokens (Config.Tokens): no AZ.
func (e *env) openTokens() (*env, error) {
	p, err := e.cfg.tokenPool(e.cfg.TokensAppID)
	if err != nil {
		return nil, err
	}
	e.app = fakeaz.App{ID: p[0].AppID}
	e.pools["hot"] = p[:1]
	e.pools["warm"] = p
	return e, nil
}

// openRemote sets up a run against a RemoteAZ: the targets' app, tokens
// minted with the AZ's shared key, the admin API when it answers.
func (e *env) openRemote(ctx context.Context, hc *http.Client) (*env, error) {
	cfg := e.cfg
	admin := cfg.Admin
	if admin == nil {
		u, _ := cfg.AZ.adminURL()
		admin = newAdmin(u, cfg.AZ.AdminToken, hc)
	}
	r, app, err := openRemote(ctx, cfg.AZ, admin, hc)
	if err != nil {
		return nil, err
	}
	e.az, e.app = r, app
	e.factory, _ = r.Factory(app.ID)
	if len(e.keys) == 0 {
		e.keys = []*rsa.PrivateKey{cfg.AZ.Key}
	}
	e.svcClient = cfg.AZ.ServiceClient
	for _, sc := range app.ServiceClients {
		if len(app.ServiceClients) == 1 && e.svcClient == "" || sc.ClientID == e.svcClient {
			e.svcClient, e.secret = sc.ClientID, sc.Secret
		}
	}
	if cfg.PoolFile != "" {
		e.poolNote = fmt.Sprintf("pool file %s not used: the tokens of a remote AZ are minted for each run", cfg.PoolFile)
	}
	if e.sink, err = startSink(cfg.SinkListen, cfg.SinkURL); err != nil {
		return nil, err
	}
	return e, nil
}

// stats reads the AZ's counters; ok is false when they cannot be read.
func (e *env) stats(ctx context.Context) (fakeaz.Stats, bool) {
	if e.az == nil || e.az.controlled() != nil {
		return fakeaz.Stats{}, false
	}
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	st, err := e.az.Stats(ctx)
	return st, err == nil
}

// serverURL is the AZ's serverUrl ("" with Config.Tokens).
func (e *env) serverURL() string {
	if e.az == nil {
		return ""
	}
	return e.az.URL()
}

// attacker returns a factory whose key is not the AZ's: the forged
// signatures of invalid-flood. One of the configured keys when one differs
// from the AZ's, else a fresh key.
func (e *env) attacker() (*tokenfactory.Factory, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.attackerKey == nil {
		for _, k := range e.keys {
			if e.factory == nil || !k.Equal(e.factory.Key()) {
				e.attackerKey = k
			}
		}
	}
	if e.attackerKey == nil {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("bench: generating an attacker key: %w", err)
		}
		e.attackerKey = k
	}
	return tokenfactory.New(e.attackerKey)
}
