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

// The jpk header of minted tokens encodes the key as the real AZ did: the
// genuine token's own header round-trips byte for byte.
func TestJPKAsTheRealAZ(t *testing.T) {
	t.Parallel()
	tok := strings.TrimSpace(string(readFile(t, "../reference/testdata/genuine-idtoken.jwt")))
	hdr, err := tokenfactory.B64.DecodeString(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		JPK map[string]any `json:"jpk"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	pub, err := tokenfactory.DecodeModExp(h.JPK["mod"].(string), h.JPK["exp"].(string))
	if err != nil {
		t.Fatal(err)
	}
	got := tokenfactory.JPK(pub)
	for _, k := range []string{"alg", "mod", "exp"} {
		if got[k] != h.JPK[k] {
			t.Errorf("jpk %s = %v, the real AZ wrote %v", k, got[k], h.JPK[k])
		}
	}
	if !strings.HasPrefix(got["mod"].(string), "AI3O") {
		t.Errorf("mod %q lacks the leading zero byte", got["mod"])
	}
}

func TestMCAIssuer(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"http://abms.mybluemix.net:80/imf-authserver", "http://abms.mybluemix.net:80/imf-authserver/authorization/"},
		{"http://127.0.0.1:8080/imf-authserver/", "http://127.0.0.1:8080/imf-authserver/authorization/"},
	} {
		if got := tokenfactory.MCAIssuer(tc.in); got != tc.want {
			t.Errorf("MCAIssuer(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
