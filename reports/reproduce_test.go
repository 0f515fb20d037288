package reports

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// The reproducer replays what was sent (curl against $TARGET) and names
// the fakeaz that serves the signer's key (kid of the jpk modulus, as
// fakeaz computes it) at the token's issuer, for the case's app.
func TestReproducer(t *testing.T) {
	t.Parallel()
	key, err := tokenfactory.GenerateKey(2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	f, err := tokenfactory.New(key, tokenfactory.WithIssuer("http://127.0.0.1:41234/imf-authserver"))
	if err != nil {
		t.Fatal(err)
	}
	app := "8d3e0f5a-5c1b-4f7e-9a2d-6b4c3e2f1a01"
	tok, err := f.AccessToken(tokenfactory.Access{AppID: app, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(key.N.Bytes())
	kid := hex.EncodeToString(sum[:8])
	base := "http://127.0.0.1:5000"
	r := &conformance.Result{ID: "SIG-001", Observed: &kit.Observation{
		Tokens: map[string]string{"access": tok},
		Exchanges: []kit.Exchange{{Method: "GET", URL: base + "/v1/apps/" + app + "/protected",
			RequestHeader: http.Header{"Authorization": {"Bearer " + tok + " it's"}}}},
	}}
	rv := buildRepro(r, base, "az-keys")
	if rv == nil || len(rv.Curl) != 1 {
		t.Fatalf("repro %+v, want one curl command", rv)
	}
	for _, want := range []string{`curl -i --path-as-is "${TARGET}/v1/apps/` + app + `/protected"`, `-H 'Authorization: Bearer ` + tok + ` it'\''s'`} {
		if !strings.Contains(rv.Curl[0], want) {
			t.Errorf("curl %q lacks %q", rv.Curl[0], want)
		}
	}
	for _, want := range []string{"--listen 127.0.0.1:41234", "--key az-keys/" + kid + ".pem", `"id":"` + app + `"`, "--config fakeaz-SIG-001.json"} {
		if !strings.Contains(rv.FakeAZ, want) {
			t.Errorf("fakeaz command %q lacks %q", rv.FakeAZ, want)
		}
	}
	// A kid that is not fakeaz's (a crafted header) names no key file.
	if got := fakeAZCommand(&conformance.Result{ID: "X", Observed: &kit.Observation{
		Tokens: map[string]string{"access": "eyJraWQiOiIuLi8uLi9ldGMvcGFzc3dkIn0.e30.x"}}}, "az-keys"); got != "" {
		t.Errorf("crafted kid gave %q, want no command", got)
	}
	// A run that kept no keys names none.
	if rv := buildRepro(r, base, ""); rv == nil || rv.FakeAZ != "" {
		t.Errorf("repro without a keys folder: %+v, want curl commands and no fakeaz command", rv)
	}
}
