package adminclient_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

var (
	keyOnce sync.Once
	key     *rsa.PrivateKey
	keyErr  error
)

func keyGen(t *testing.T) fakeaz.Option {
	t.Helper()
	keyOnce.Do(func() { key, keyErr = tokenfactory.GenerateKey(2048, nil) })
	if keyErr != nil {
		t.Fatal(keyErr)
	}
	return fakeaz.WithKeyGen(func() (*rsa.PrivateKey, error) { return key, nil })
}

// TestTokenHeader: the bearer token is sent when set, and no Authorization header otherwise.
func TestTokenHeader(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, token, want string
	}{
		{"no token", "", ""},
		{"token", "s3cret", "Bearer s3cret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan string, 1)
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got <- r.Header.Get("Authorization")
				w.WriteHeader(http.StatusNoContent)
			}))
			defer ts.Close()
			c := adminclient.New(ts.URL+"/admin/", tt.token, nil)
			if err := c.ResetStats(context.Background()); err != nil {
				t.Fatal(err)
			}
			if h := <-got; h != tt.want {
				t.Errorf("Authorization %q, want %q", h, tt.want)
			}
		})
	}
}

// TestAgainstFakeAZ: the client drives a real fakeaz admin API, and its errors unwrap to
// ErrAdmin and the fakeaz sentinel.
func TestAgainstFakeAZ(t *testing.T) {
	t.Parallel()
	s, err := fakeaz.New(keyGen(t))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	ctx := context.Background()
	c := adminclient.New(ts.URL+"/admin", "", nil)
	app, err := c.AddApp(ctx, fakeaz.App{BundleID: "com.example"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := c.MintToken(ctx, app.ID, adminclient.TokenRequest{})
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("MintToken: %+v, %v", tok, err)
	}
	if _, err := c.App(ctx, "no-such-app"); !errors.Is(err, adminclient.ErrAdmin) || !errors.Is(err, fakeaz.ErrUnknownApp) {
		t.Errorf("App(unknown): %v, want ErrAdmin and fakeaz.ErrUnknownApp", err)
	} else if ae := (*adminclient.AdminError)(nil); !errors.As(err, &ae) || ae.Status != http.StatusNotFound {
		t.Errorf("App(unknown): %v, want an AdminError with status 404", err)
	}
}
