package adminauth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/internal/adminauth"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	var open, guarded adminauth.Guard
	guarded.SetToken("s3cret")
	tests := []struct {
		name      string
		g         *adminauth.Guard
		header    string
		ok        bool
		challenge string
	}{
		{"no token set", &open, "", true, ""},
		{"right token", &guarded, "Bearer s3cret", true, ""},
		{"scheme in any case, spaces", &guarded, "bEaReR  s3cret ", true, ""},
		{"missing", &guarded, "", false, `Bearer realm="r"`},
		{"wrong", &guarded, "Bearer s3cre", false, `Bearer realm="r", error="invalid_token"`},
		{"basic", &guarded, "Basic czNjcmV0", false, `Bearer realm="r"`},
	}
	for _, tt := range tests {
		w := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/admin/apps", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got := tt.g.Authorize(w, r, "r", "the --admin-token flag"); got != tt.ok {
			t.Errorf("%s: Authorize = %v, want %v", tt.name, got, tt.ok)
		}
		if tt.ok {
			if w.Code != http.StatusOK || w.Body.Len() != 0 {
				t.Errorf("%s: wrote %d %q for an authorized request", tt.name, w.Code, w.Body)
			}
			continue
		}
		if w.Code != http.StatusUnauthorized || w.Header().Get("WWW-Authenticate") != tt.challenge ||
			!strings.Contains(w.Body.String(), `"error":"unauthorized"`) || !strings.Contains(w.Body.String(), "--admin-token") {
			t.Errorf("%s: %d %q %s", tt.name, w.Code, w.Header().Get("WWW-Authenticate"), w.Body)
		}
	}
}

func TestExposed(t *testing.T) {
	t.Parallel()
	var open, guarded adminauth.Guard
	guarded.SetToken("x")
	for addr, want := range map[string]bool{"": false, "127.0.0.1:0": false, "[::1]:9": false, "0.0.0.0:9080": true, ":9080": true, "10.1.2.3:80": true, "nonsense": false} {
		if _, got := open.Exposed(addr); got != want {
			t.Errorf("open guard, Exposed(%q) = %v, want %v", addr, got, want)
		}
		if _, got := guarded.Exposed(addr); got {
			t.Errorf("guard with a token, Exposed(%q) = true", addr)
		}
	}
	var empty adminauth.Guard
	empty.SetToken("")
	if !errors.Is(empty.Err(), adminauth.ErrEmptyToken) {
		t.Errorf("SetToken(\"\"): Err = %v", empty.Err())
	}
}
