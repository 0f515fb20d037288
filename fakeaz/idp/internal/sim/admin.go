package sim

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// AdminGuard protects a simulator's /admin/ routes with a bearer secret. The zero value lets
// every request through (allowed on loopback only, see CheckExposure).
type AdminGuard struct {
	sum *[32]byte
	err error
}

// SetToken requires "Authorization: Bearer <secret>" on the admin routes. An empty secret is
// an error that CheckExposure reports.
func (g *AdminGuard) SetToken(secret string) {
	if secret == "" {
		g.err = errors.New("WithAdminToken: the secret is empty")
		return
	}
	sum := sha256.Sum256([]byte(secret))
	g.sum, g.err = &sum, nil
}

// CheckExposure refuses an open admin API on a non-loopback address (and an empty token).
func (g *AdminGuard) CheckExposure(name, addr string) error {
	if g.err != nil {
		return fmt.Errorf("%s: %w", name, g.err)
	}
	if g.sum != nil {
		return nil
	}
	a, err := listen.Addr(addr)
	if err != nil || listen.IsLoopback(a) {
		return nil // Start reports a bad address
	}
	return fmt.Errorf("%w: %s listening on %s: set an admin token (WithAdminToken; mcaspec idp --admin-token, --admin-token-file or MCASPEC_ADMIN_TOKEN) or listen on a loopback address", idp.ErrAdminExposed, name, a)
}

// IsAdmin reports whether a request path is an admin route.
func IsAdmin(path string) bool { return path == "/admin" || strings.HasPrefix(path, "/admin/") }

// Allow reports whether an admin request carries the token, answering 401 when it does not.
// Requests outside /admin/ always pass.
func (g *AdminGuard) Allow(w http.ResponseWriter, r *http.Request) bool {
	if g.sum == nil || !IsAdmin(r.URL.Path) {
		return true
	}
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		sum := sha256.Sum256([]byte(strings.TrimSpace(v[7:])))
		if subtle.ConstantTimeCompare(sum[:], g.sum[:]) == 1 {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="idp admin", error="invalid_token"`)
		WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "the admin token is wrong: send the simulator's admin token as Authorization: Bearer <token>"})
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="idp admin"`)
	WriteJSON(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": "the admin API needs Authorization: Bearer <admin token> (the --admin-token of mcaspec idp, WithAdminToken in Go)"})
	return false
}
