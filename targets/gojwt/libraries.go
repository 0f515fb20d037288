package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"github.com/lestrrat-go/httprc/v3"
	"github.com/lestrrat-go/jwx/v3/jwk"
	jwxjwt "github.com/lestrrat-go/jwx/v3/jwt"
	"golang.org/x/time/rate"
)

// Library builds one library's Verifier for a tenant, as its README
// configures it, or hardened as docs/certification advises.
type Library struct {
	Name string
	New  func(ctx context.Context, t Tenant, hardened bool) (Verifier, error)
}

// Libraries is the command's table: the name on the command line → the library.
func Libraries() []Library {
	return []Library{
		{Name: "golang-jwt", New: newGolangJWT},
		{Name: "go-oidc", New: newGoOIDC},
		{Name: "jwx", New: newJWX},
	}
}

// golang-jwt/jwt/v5 with MicahParks/keyfunc/v3, as keyfunc's README:
// keyfunc.NewDefaultCtx(ctx, []string{jwksURL}) and jwt.Parse(token,
// k.Keyfunc), with the parser options for the tenant's iss and aud.
type golangJWT struct {
	k    keyfunc.Keyfunc
	opts []jwt.ParserOption
}

func newGolangJWT(ctx context.Context, t Tenant, hardened bool) (Verifier, error) {
	g := &golangJWT{opts: []jwt.ParserOption{jwt.WithIssuer(t.Issuer), jwt.WithAudience(t.Audience)}}
	var err error
	if !hardened {
		g.k, err = keyfunc.NewDefaultCtx(ctx, []string{t.JWKSURL})
	} else {
		// A JWKS request bounded to 3 s (default 1 min); an unknown kid refetches
		// at most every 2 s (default 5 min), and a request never waits for the
		// next refetch (default: up to 1 min).
		g.k, err = keyfunc.NewDefaultOverrideCtx(ctx, []string{t.JWKSURL}, keyfunc.Override{
			HTTPTimeout:       httpTimeout,
			RefreshUnknownKID: rate.NewLimiter(rate.Every(2*time.Second), 1),
			RateLimitWaitMax:  time.Millisecond,
		})
		g.opts = append(g.opts, jwt.WithValidMethods([]string{"RS256"}), jwt.WithExpirationRequired())
	}
	if err != nil {
		return nil, fmt.Errorf("keyfunc: %w", err)
	}
	return g, nil
}

func (g *golangJWT) Verify(ctx context.Context, tok string) (Claims, error) {
	c := jwt.MapClaims{}
	if _, err := jwt.ParseWithClaims(tok, c, g.k.KeyfuncCtx(ctx), g.opts...); err != nil {
		return nil, err
	}
	return Claims(c), nil
}

// coreos/go-oidc/v3's IDTokenVerifier, as services use it for access tokens:
// oidc.NewProvider(ctx, issuer) (discovery) and provider.Verifier(&oidc.Config{ClientID: audience}).
type goOIDC struct{ v *oidc.IDTokenVerifier }

func newGoOIDC(ctx context.Context, t Tenant, hardened bool) (Verifier, error) {
	cfg := &oidc.Config{ClientID: t.Audience}
	if hardened {
		// Discovery and JWKS requests bounded to 3 s (default: http.DefaultClient, none); RS256 only.
		ctx = oidc.ClientContext(ctx, &http.Client{Timeout: httpTimeout})
		cfg.SupportedSigningAlgs = []string{oidc.RS256}
	}
	p, err := oidc.NewProvider(ctx, t.Issuer)
	if err != nil {
		return nil, fmt.Errorf("go-oidc: %w", err)
	}
	return &goOIDC{v: p.Verifier(cfg)}, nil
}

func (g *goOIDC) Verify(ctx context.Context, tok string) (Claims, error) {
	t, err := g.v.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	c := Claims{}
	if err := t.Claims(&c); err != nil {
		return nil, err
	}
	return c, nil
}

// lestrrat-go/jwx/v3, as its README: jwk.NewCache(ctx, httprc.NewClient()),
// Register(ctx, jwksURL), CachedSet, and jwt.Parse(token, jwt.WithKeySet(set))
// with jwt.WithIssuer and jwt.WithAudience.
type jwx struct {
	opts []jwxjwt.ParseOption
	// hardened: a kid the cached set lacks refreshes it, at most every 2 s.
	cache   *jwk.Cache
	url     string
	refresh *rate.Limiter
}

func newJWX(ctx context.Context, t Tenant, hardened bool) (Verifier, error) {
	var client *httprc.Client
	var reg []jwk.RegisterOption
	if !hardened {
		client = httprc.NewClient()
	} else {
		// JWKS requests bounded to 3 s (default: none).
		client = httprc.NewClient(httprc.WithHTTPClient(&http.Client{Timeout: httpTimeout}))
	}
	c, err := jwk.NewCache(ctx, client)
	if err != nil {
		return nil, fmt.Errorf("jwx: %w", err)
	}
	if err := c.Register(ctx, t.JWKSURL, reg...); err != nil {
		return nil, fmt.Errorf("jwx: register %s: %w", t.JWKSURL, err)
	}
	set, err := c.CachedSet(t.JWKSURL)
	if err != nil {
		return nil, fmt.Errorf("jwx: %w", err)
	}
	j := &jwx{opts: []jwxjwt.ParseOption{jwxjwt.WithKeySet(set), jwxjwt.WithIssuer(t.Issuer), jwxjwt.WithAudience(t.Audience)}}
	if hardened {
		j.opts = append(j.opts, jwxjwt.WithRequiredClaim(jwxjwt.ExpirationKey))
		j.cache, j.url, j.refresh = c, t.JWKSURL, rate.NewLimiter(rate.Every(2*time.Second), 1)
	}
	return j, nil
}

func (j *jwx) Verify(ctx context.Context, tok string) (Claims, error) {
	t, err := jwxjwt.ParseString(tok, j.opts...)
	if err != nil && j.cache != nil && j.refresh.Allow() {
		// The cache refreshes only on its schedule: refetch once for a kid it
		// may not have seen yet (a rotation), then verify again.
		if _, rerr := j.cache.Refresh(ctx, j.url); rerr == nil {
			t, err = jwxjwt.ParseString(tok, j.opts...)
		}
	}
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	c := Claims{}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return c, nil
}

// errUnknownLibrary is returned for a name not in Libraries.
var errUnknownLibrary = errors.New("unknown library")
