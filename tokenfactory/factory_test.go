package tokenfactory_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jws"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestAccessTokenVerifiesWithJWX(t *testing.T) {
	t.Parallel()
	key := testKey(t)
	now := time.Unix(1_700_000_000, 0)
	f, err := tokenfactory.New(key, tokenfactory.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.AccessToken(tokenfactory.Access{AppID: "app", ClientID: "cid"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(tok, "=+/") {
		t.Fatalf("token is not unpadded base64url: %s", tok)
	}
	payload, err := jws.Verify([]byte(tok), jws.WithKey(jwa.RS256(), &key.PublicKey))
	if err != nil {
		t.Fatalf("jwx does not verify the token: %v", err)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"iss": tokenfactory.DefaultIssuer, "aud": "app", "prn": "cid", "iat": float64(now.Unix()), "exp": float64(now.Add(time.Hour).Unix())}
	for k, v := range want {
		if c[k] != v {
			t.Errorf("claim %s = %v, want %v", k, c[k], v)
		}
	}
	if len(c) != len(want) {
		t.Errorf("claims %v, want exactly %v", c, want)
	}
}
