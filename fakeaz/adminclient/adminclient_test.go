package adminclient_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

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

// TestSetFault: SetFault sends the fault in the admin API's form (FaultSpec's JSON), so every
// field reaches the server, and GET /faults lists it in the same form.
func TestSetFault(t *testing.T) {
	t.Parallel()
	s, err := fakeaz.New(keyGen(t))
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	defer s.Close()
	c := adminclient.New(ts.URL+"/admin", "", nil)
	want := fakeaz.FaultSpec{Endpoint: fakeaz.EndpointToken, AppID: "app-1", Status: 503, Body: "busy",
		ContentType: "text/plain", Delay: 1500 * time.Millisecond, EveryNth: 2, For: time.Hour}
	before := time.Now()
	if err := c.SetFault(t.Context(), want); err != nil {
		t.Fatal(err)
	}
	got := s.Faults()
	if len(got) != 1 {
		t.Fatalf("faults %+v, want one", got)
	}
	f := got[0]
	if f.Until.Before(before.Add(time.Hour)) || f.Until.After(time.Now().Add(time.Hour)) {
		t.Errorf("Until %v, want an hour after SetFault", f.Until)
	}
	f.Until, want.For = time.Time{}, 0 // the server turns For into Until
	if f != want {
		t.Errorf("server has %+v, want %+v", f, want)
	}
	var listed []map[string]any
	if err := c.Do(t.Context(), http.MethodGet, "/faults", nil, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed) != 1 || listed[0]["delay"] != "1.5s" || listed[0]["endpoint"] != fakeaz.EndpointToken || listed[0]["everyNth"] != float64(2) {
		t.Errorf("GET /faults = %v, want the fault in the admin form", listed)
	}
	if err := c.SetFault(t.Context(), fakeaz.FaultSpec{Endpoint: "nowhere", Status: 500}); !errors.Is(err, fakeaz.ErrInvalidFault) {
		t.Errorf("SetFault(unknown endpoint) = %v, want fakeaz.ErrInvalidFault", err)
	}
}
