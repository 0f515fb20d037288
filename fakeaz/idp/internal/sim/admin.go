package sim

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/internal/adminauth"
)

// AdminGuard protects a simulator's /admin/ routes with a bearer secret. The zero value lets
// every request through (allowed on loopback only, see CheckExposure).
type AdminGuard struct{ g adminauth.Guard }

// SetToken requires "Authorization: Bearer <secret>" on the admin routes. An empty secret is
// an error that CheckExposure reports.
func (g *AdminGuard) SetToken(secret string) { g.g.SetToken(secret) }

// CheckExposure refuses an open admin API on a non-loopback address (and an empty token).
func (g *AdminGuard) CheckExposure(name, addr string) error {
	if err := g.g.Err(); err != nil {
		return fmt.Errorf("%s: WithAdminToken: %w", name, err)
	}
	if a, exposed := g.g.Exposed(addr); exposed {
		return fmt.Errorf("%w: %s listening on %s: set an admin token (WithAdminToken; mcaspec idp --admin-token, --admin-token-file or MCASPEC_ADMIN_TOKEN) or listen on a loopback address", idp.ErrAdminExposed, name, a)
	}
	return nil
}

// IsAdmin reports whether a request path is an admin route.
func IsAdmin(path string) bool { return path == "/admin" || strings.HasPrefix(path, "/admin/") }

// Allow reports whether an admin request carries the token, answering 401 when it does not.
// Requests outside /admin/ always pass.
func (g *AdminGuard) Allow(w http.ResponseWriter, r *http.Request) bool {
	return !IsAdmin(r.URL.Path) || g.g.Authorize(w, r, "idp admin", "the --admin-token of mcaspec idp, WithAdminToken in Go")
}

// Serve passes the request to h when the guard allows it (else it has
// answered): a simulator's ServeHTTP.
func (g *AdminGuard) Serve(w http.ResponseWriter, r *http.Request, h http.Handler) {
	if g.Allow(w, r) {
		h.ServeHTTP(w, r)
	}
}

// Start serves h on addr after the guard's CheckExposure for the simulator
// called name: a simulator's Start.
func (g *AdminGuard) Start(l *Listener, name, addr string, h http.Handler) error {
	if err := g.CheckExposure(name, addr); err != nil {
		return err
	}
	return l.Start(addr, h)
}
