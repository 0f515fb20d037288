package reference

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// The one genuine MCA token (testdata/genuine-idtoken.md): the reference
// verifies it with the key of its jpk header served as the AZ key, the clock
// pinned inside its validity, its iss as the configured issuer, and
// imf.application.id = null accepted; one second after exp it is refused.
// The genuine access token does not verify (edited by hand), so the id token
// goes through the validator's token checks and key path on its own.
func TestGenuineIDToken(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("testdata/genuine-idtoken.jwt")
	if err != nil {
		t.Fatal(err)
	}
	raw := strings.TrimSpace(string(b))
	const (
		app    = "2fe35477-51b0-4c87-803d-aca59511433b"
		issuer = "http://abms.mybluemix.net:80/imf-authserver/authorization/"
		exp    = 1460311688
	)
	hdr, err := tokenfactory.B64.DecodeString(strings.Split(raw, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h struct {
		JPK struct{ Mod, Exp string } `json:"jpk"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	pub, err := tokenfactory.DecodeModExp(h.JPK.Mod, h.JPK.Exp)
	if err != nil {
		t.Fatal(err)
	}
	az := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/imf-authserver/authorization/v1/apps/"+app+"/publickey" {
			http.NotFound(w, r)
			return
		}
		_ = json.NewEncoder(w).Encode(tokenfactory.NewPublicKeyJSON(pub))
	}))
	t.Cleanup(az.Close)

	for _, tc := range []struct {
		name string
		now  time.Time
		ok   bool
	}{
		{"inside its validity", time.Unix(exp-1800, 0), true},
		{"at iat", time.Unix(1460308088, 0), true},
		{"one second after exp", time.Unix(exp+1, 0), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := New(Config{ServerURL: az.URL + "/imf-authserver", Issuer: issuer, Clock: func() time.Time { return tc.now }})
			if err != nil {
				t.Fatal(err)
			}
			tok, rej := v.parseToken(raw, kindID, app, v.cfg.Clock())
			if !tc.ok {
				if rej == nil || !strings.Contains(rej.err.Error(), "expired") {
					t.Fatalf("accepted after exp (rejection %v)", rej)
				}
				return
			}
			if rej != nil {
				t.Fatalf("refused: %v", rej.err)
			}
			key, kerr := v.keys.get(t.Context(), app)
			if kerr != nil {
				t.Fatal(kerr)
			}
			if !v.verify(tok, key.pub) {
				t.Fatal("the genuine signature does not verify with the jpk key served as the AZ key")
			}
			if tok.sub != "::6380802df6df9a70380635c0082bf913205176e0" {
				t.Errorf("sub %q", tok.sub)
			}
			if got := string(rawOr(tok, claimApplication)); got != `{"id":null,"version":"1.0"}` {
				t.Errorf("imf.application %s, want the null id kept", got)
			}
		})
	}
	// A validator configured with the default issuer for that serverUrl
	// (no explicit ":80") refuses it: the issuer is compared exactly.
	v, err := New(Config{ServerURL: "http://abms.mybluemix.net/imf-authserver", Clock: func() time.Time { return time.Unix(exp-10, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, rej := v.parseToken(raw, kindID, app, v.cfg.Clock()); rej == nil || !strings.Contains(rej.err.Error(), "iss") {
		t.Errorf("iss without :80 accepted (rejection %v)", rej)
	}
}
