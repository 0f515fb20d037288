package bench

import (
	"encoding/base64"
	"strings"
	"testing"
)

// A token without aud is read (its help says --app-id supplies the app
// id), and the pool then needs the app id: given, it is used; not given,
// the token is refused with the reason.
func TestTokensWithoutAudTakeTheGivenAppID(t *testing.T) {
	t.Parallel()
	seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	access := seg(`{"alg":"RS256"}`) + "." + seg(`{"prn":"client-1"}`) + ".c2ln"
	toks, err := ReadTokens(strings.NewReader(`{"authorization":"Bearer ` + access + `","sub":"s"}`))
	if err != nil {
		t.Fatalf("ReadTokens refused a token without aud: %v", err)
	}
	cfg := &Config{Tokens: toks, Shard: Shard{0, 1}}
	const app = "7c1f5a4e-0b6d-4e8a-9a53-1d2f3e4a5b6c"
	p, err := cfg.tokenPool(app)
	if err != nil || len(p) != 1 || p[0].AppID != app {
		t.Fatalf("tokenPool(app) = %+v, %v; want the given app id", p, err)
	}
	if _, err := cfg.tokenPool(""); err == nil || !strings.Contains(err.Error(), "no aud") {
		t.Fatalf("tokenPool without an app id: %v, want the aud named", err)
	}
}
