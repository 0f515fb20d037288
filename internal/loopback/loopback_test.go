package loopback_test

import (
	"errors"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/loopback"
)

func TestHTTPURLAndClient(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"http://127.0.0.1:9/x", "http://localhost/", "http://[::1]:80/a?b=c"} {
		if _, err := loopback.HTTPURL("to", ok); err != nil {
			t.Errorf("HTTPURL(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "https://127.0.0.1/", "http://user:pw@127.0.0.1/", "http://10.0.0.1/", "http://example.com/", "::"} {
		if _, err := loopback.HTTPURL("to", bad); err == nil {
			t.Errorf("HTTPURL(%q) accepted", bad)
		}
	}
	// The client refuses to dial a non-loopback address even when asked to
	// (0.0.0.0 is not loopback; the dialer's Control hook refuses it before any connect).
	_, err := loopback.Client(time.Second).Get("http://0.0.0.0:9/")
	if !errors.Is(err, loopback.ErrNotLoopback) {
		t.Errorf("dialing a non-loopback address: %v, want ErrNotLoopback", err)
	}
}
