package webrp

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Key refresh: a token that does not verify with the cached key makes the
// RP fetch the key again (the AZ may have rotated it), unless the token
// names (kid) a key already seen verifying with the cached key (then it is
// simply forged); at most keyBurst times at once and then once per
// keyRefill, so forged tokens cannot make it hammer the AZ.
const (
	keyBurst  = 3
	keyRefill = time.Second
	// maxKeyBody bounds a publickey response.
	maxKeyBody = 64 << 10
)

// keySource fetches and caches the AZ's public key.
type keySource struct {
	url     string
	hc      *http.Client
	clock   func() time.Time
	refresh bool

	mu      sync.Mutex
	key     *rsa.PublicKey
	kids    map[string]bool // kids of tokens that verified with key
	tokens  float64
	last    time.Time
	fetches atomic.Int64
}

func newKeySource(u string, hc *http.Client, clock func() time.Time, refresh bool) *keySource {
	return &keySource{url: u, hc: hc, clock: clock, refresh: refresh, tokens: keyBurst}
}

// get returns the cached key, fetching it the first time.
func (k *keySource) get(ctx context.Context) (*rsa.PublicKey, error) {
	k.mu.Lock()
	key := k.key
	k.mu.Unlock()
	if key != nil {
		return key, nil
	}
	return k.fetch(ctx)
}

// verified notes that a token naming kid verified with key.
func (k *keySource) verified(key *rsa.PublicKey, kid string) {
	if kid == "" {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.key == key && len(k.kids) < 64 {
		k.kids[kid] = true
	}
}

// again fetches the key anew if the token's kid is not known to verify with
// the cached key and the rate allows; it returns nil when not.
func (k *keySource) again(ctx context.Context, kid string) *rsa.PublicKey {
	if !k.refresh {
		return nil
	}
	k.mu.Lock()
	if kid != "" && k.kids[kid] {
		k.mu.Unlock()
		return nil
	}
	now := k.clock()
	k.tokens = min(keyBurst, k.tokens+now.Sub(k.last).Seconds()/keyRefill.Seconds())
	k.last = now
	ok := k.tokens >= 1
	if ok {
		k.tokens--
	}
	k.mu.Unlock()
	if !ok {
		return nil
	}
	key, err := k.fetch(ctx)
	if err != nil {
		return nil
	}
	return key
}

func (k *keySource) fetch(ctx context.Context) (*rsa.PublicKey, error) {
	k.fetches.Add(1)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, k.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := k.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the AZ key: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxKeyBody))
	if err != nil {
		return nil, fmt.Errorf("fetching the AZ key: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the AZ key: %s answered %d", k.url, resp.StatusCode)
	}
	key, err := tokenfactory.ParsePublicKeyJSON(body)
	if err != nil {
		return nil, fmt.Errorf("the AZ key at %s: %w", k.url, err)
	}
	k.mu.Lock()
	if k.key == nil || !k.key.Equal(key) {
		k.key, k.kids = key, map[string]bool{}
	}
	key = k.key
	k.mu.Unlock()
	return key, nil
}

// verify checks an id token (OpenID Connect Core 1.0 §3.1.3.7) and returns its claims.
func (rp *RP) verify(ctx context.Context, tok, nonce string) (map[string]any, error) {
	h, p, s, err := jwsbb.SplitCompactString(tok)
	if err != nil {
		return nil, fmt.Errorf("not a compact JWS: %w", err)
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	hb, err := tokenfactory.B64.DecodeString(string(h))
	if err == nil {
		err = json.Unmarshal(hb, &header)
	}
	if err != nil {
		return nil, fmt.Errorf("the header is not base64url JSON: %w", err)
	}
	if !rp.cfg.InsecureSkipSignature {
		if header.Alg != tokenfactory.RS256 {
			return nil, fmt.Errorf("alg %q: only RS256 is accepted", header.Alg)
		}
		sig, err := tokenfactory.B64.DecodeString(string(s))
		if err != nil {
			return nil, fmt.Errorf("the signature is not base64url: %w", err)
		}
		key, err := rp.keys.get(ctx)
		if err != nil {
			return nil, err
		}
		input := []byte(string(h) + "." + string(p))
		if err := jwsbb.Verify(key, tokenfactory.RS256, input, sig); err != nil {
			key = rp.keys.again(ctx, header.Kid)
			if key == nil || jwsbb.Verify(key, tokenfactory.RS256, input, sig) != nil {
				return nil, errors.New("the signature does not verify with the AZ key")
			}
		}
		rp.keys.verified(key, header.Kid)
	}
	pb, err := tokenfactory.B64.DecodeString(string(p))
	if err != nil {
		return nil, fmt.Errorf("the payload is not base64url: %w", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(pb, &claims); err != nil {
		return nil, fmt.Errorf("the payload is not a JSON object: %w", err)
	}
	now := rp.now()
	if iss, _ := claims["iss"].(string); !rp.cfg.InsecureSkipIssuer && strings.TrimRight(iss, "/") != rp.cfg.ServerURL {
		return nil, fmt.Errorf("iss %q is not the AZ %q", iss, rp.cfg.ServerURL)
	}
	if !rp.cfg.InsecureSkipAudience && !hasAudience(claims["aud"], rp.cfg.AppID) {
		return nil, fmt.Errorf("aud %v is not the app id %s", claims["aud"], rp.cfg.AppID)
	}
	if sub, _ := claims["sub"].(string); sub == "" && !rp.cfg.InsecureOptionalClaims {
		return nil, errors.New("sub is missing")
	}
	iat, ok := claims["iat"].(float64)
	if !ok && !rp.cfg.InsecureOptionalClaims {
		return nil, errors.New("iat is missing or not a number")
	}
	if ok && time.Unix(int64(iat), 0).After(now.Add(rp.cfg.Leeway)) {
		return nil, errors.New("iat is in the future")
	}
	if !rp.cfg.InsecureSkipExpiry {
		exp, ok := claims["exp"].(float64)
		if !ok {
			return nil, errors.New("exp is missing or not a number")
		}
		if !now.Before(time.Unix(int64(exp), 0).Add(rp.cfg.Leeway)) {
			return nil, errors.New("the id token has expired")
		}
	}
	if !rp.cfg.InsecureSkipNonce && !rp.cfg.InsecureNoNonce {
		if got, _ := claims["nonce"].(string); got != nonce {
			return nil, errors.New("nonce is not the one of this sign-in")
		}
	}
	return claims, nil
}

func hasAudience(aud any, app string) bool {
	switch a := aud.(type) {
	case string:
		return a == app
	case []any:
		for _, x := range a {
			if x == app {
				return true
			}
		}
	}
	return false
}
