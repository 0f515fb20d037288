package webrp

import (
	"context"
	"testing"
	"time"
)

// FuzzVerify: no token, however broken, panics the id token verifier or is
// accepted (the key source has no key to offer: every fetch fails fast).
func FuzzVerify(f *testing.F) {
	for _, s := range []string{"", "a.b.c", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", "eyJhbGciOiJSUzI1NiJ9.e30.AAAA", "...", "a.b"} {
		f.Add(s)
	}
	rp, err := New(Config{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "app", ClientID: "c", Secret: "s",
		AuthorizationEndpoint: "http://127.0.0.1:1/a", TokenEndpoint: "http://127.0.0.1:1/t", CallbackURL: "http://127.0.0.1:2/web/callback",
		TokenTimeout: 50 * time.Millisecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		if claims, err := rp.verify(context.Background(), tok, "n"); err == nil {
			t.Fatalf("accepted %q: %v", tok, claims)
		}
	})
}
