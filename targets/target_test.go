package targets_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/targets"
)

// TestTargetHandlerAddressed: a handler target says its URL before it
// starts (the web family registers its callback from it) and serves there,
// with the contract it was started with.
func TestTargetHandlerAddressed(t *testing.T) {
	t.Parallel()
	tg := targets.Handler(func(c contract.Contract) (http.Handler, error) {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, c.AppID) }), nil
	})
	a, ok := tg.(targets.Addressed)
	if !ok {
		t.Fatal("a handler target is not Addressed")
	}
	base, err := a.BaseURL(contract.Contract{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := tg.Start(t.Context(), contract.Contract{AppID: "app-1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	if r.URL() != base {
		t.Errorf("started at %s, said %s", r.URL(), base)
	}
	resp, err := http.Get(r.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "app-1" || tg.Info().Mode != targets.ModeHandler {
		t.Errorf("body %q, info %+v", b, tg.Info())
	}
}

// TestTargetURL: a URL target checks its URL, waits for /healthz (not with
// a negative wait), and a bad handler is an error, never a panic.
func TestTargetURL(t *testing.T) {
	t.Parallel()
	if _, err := targets.URL("ftp://x", 0).Start(t.Context(), contract.Contract{}); !errors.Is(err, targets.ErrBadURL) {
		t.Errorf("ftp URL: %v, want ErrBadURL", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := targets.URL("http://127.0.0.1:1", 300*time.Millisecond).Start(ctx, contract.Contract{}); err == nil {
		t.Error("a URL nobody answers at started")
	}
	r, err := targets.URL("http://127.0.0.1:1/", -1).Start(ctx, contract.Contract{})
	if err != nil || r.URL() != "http://127.0.0.1:1" {
		t.Errorf("no-wait URL target: %v, %v", r, err)
	}
	nilHandler := targets.Handler(func(contract.Contract) (http.Handler, error) { return nil, nil })
	if _, err := nilHandler.Start(ctx, contract.Contract{}); err == nil || !strings.Contains(err.Error(), "nil") {
		t.Errorf("nil handler: %v", err)
	}
}

// TestTargetReference: the built-in reference starts from the contract and
// answers /healthz.
func TestTargetReference(t *testing.T) {
	t.Parallel()
	tg := targets.Reference("reference", targets.ReferenceOptions{})
	r, err := tg.Start(t.Context(), contract.Contract{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "app"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Stop() })
	resp, err := http.Get(r.URL() + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	if info := tg.Info(); info.Mode != targets.ModeInProcess || info.Name != "reference" {
		t.Errorf("info %+v", info)
	}
}
