package bench

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Token is a token a real AZ issued, for a deployment that trusts that AZ
// (no AZ the bench controls): the Authorization header value to send and
// the imf.sub the target must answer with.
type Token struct {
	Authorization string `json:"authorization"`
	Sub           string `json:"sub"`
}

// MaxTokens bounds a tokens file.
const MaxTokens = 1 << 20

// ReadTokens reads a tokens file: JSON lines of Token (blank lines and
// lines starting with # are skipped). Each Authorization must be
// "Bearer <access token> [<id token>]" with compact JWS tokens.
func ReadTokens(r io.Reader) ([]Token, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var out []Token
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var t Token
		dec := json.NewDecoder(strings.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&t); err != nil {
			return nil, fmt.Errorf("%w: tokens line %d: want {\"authorization\": \"Bearer …\", \"sub\": \"…\"}: %w", ErrConfig, n, err)
		}
		// The shape only: the app id may come from --app-id (TokensAppID),
		// so a token without aud is checked when the pool is built.
		if _, err := t.pooled(anyAppID); err != nil {
			return nil, fmt.Errorf("%w: tokens line %d: %w", ErrConfig, n, err)
		}
		if t.Sub == "" {
			return nil, fmt.Errorf("%w: tokens line %d: no sub (the imf.sub the target must answer)", ErrConfig, n)
		}
		if len(out) >= MaxTokens {
			return nil, fmt.Errorf("%w: more than %d tokens", ErrConfig, MaxTokens)
		}
		out = append(out, t)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: tokens: %w", ErrConfig, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: the tokens file holds no token", ErrConfig)
	}
	return out, nil
}

// anyAppID stands for the app id when ReadTokens checks a token's shape.
const anyAppID = "-"

var errNotBearer = errors.New(`authorization must be "Bearer <access token> [<id token>]"`)

// pooled turns t into a pool entry; appID "" reads the access token's aud
// (unverified) as the app id of the request path.
func (t Token) pooled(appID string) (pooled, error) {
	f := strings.Fields(t.Authorization)
	if len(f) < 2 || len(f) > 3 || !strings.EqualFold(f[0], "Bearer") {
		return pooled{}, errNotBearer
	}
	if strings.Count(f[1], ".") != 2 {
		return pooled{}, fmt.Errorf("the access token is not a compact JWS (three dot-separated parts)")
	}
	p := pooled{Pair: tokenfactory.Pair{AppID: appID, Access: f[1]}, Sub: t.Sub, auth: t.Authorization}
	if len(f) == 3 {
		p.ID = f[2]
	}
	var c struct {
		Aud any    `json:"aud"`
		Prn string `json:"prn"`
	}
	parts := strings.Split(f[1], ".")
	if b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "=")); err == nil {
		_ = json.Unmarshal(b, &c)
	}
	p.ClientID = c.Prn
	if p.AppID == "" {
		switch a := c.Aud.(type) {
		case string:
			p.AppID = a
		case []any:
			if len(a) > 0 {
				p.AppID, _ = a[0].(string)
			}
		}
	}
	if p.AppID == "" {
		return pooled{}, fmt.Errorf("no app id: the access token has no aud (give the app id)")
	}
	return p, nil
}

// tokenPool is this shard's share of the configured tokens: token i goes
// to shard i mod n, so that shards never send the same token.
func (c *Config) tokenPool(appID string) ([]pooled, error) {
	var out []pooled
	for i, t := range c.Tokens {
		if i%c.Shard.Count != c.Shard.Index {
			continue
		}
		p, err := t.pooled(appID)
		if err != nil {
			return nil, fmt.Errorf("%w: token %d: %w", ErrConfig, i+1, err)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %d tokens for %d shards: shard %s has none (give at least one token per shard)", ErrConfig, len(c.Tokens), c.Shard.Count, c.Shard)
	}
	return out, nil
}

// derivedMutations are the broken variants made from a token the bench
// cannot re-sign (a real AZ's): the tokenfactory mutations that only edit
// the finished token (a flipped bit, a stripped signature, alg none, a
// wrong segment count, a foreign character...).
func derivedMutations(attacker *tokenfactory.Factory) ([]tokenfactory.Mutation, error) {
	all, err := floodMutations(attacker)
	if err != nil {
		return nil, err
	}
	var out []tokenfactory.Mutation
	for _, m := range all {
		if m.Before == nil && m.After != nil {
			out = append(out, m)
		}
	}
	return out, nil
}
