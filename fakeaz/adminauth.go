package fakeaz

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/mcaspec/mcaspec/internal/listen"
)

// ErrAdminExposed is returned by Start when the admin API would be reachable from the network
// without a secret: it mints tokens every target that trusts this AZ accepts.
var ErrAdminExposed = errors.New("fakeaz: the admin API would be reachable from the network without an admin token")

// WithAdminToken requires "Authorization: Bearer <secret>" on every admin API request, on any
// listen address (loopback included): a request without it, or with another secret, is
// answered 401 and changes nothing. Without it the admin API is open, which Start allows only
// on a loopback address. An empty secret is an error (Err, Start).
func WithAdminToken(secret string) Option {
	return func(s *Server) {
		s.adminGuard.SetToken(secret)
		if err := s.adminGuard.Err(); err != nil {
			s.initErr = errors.Join(s.initErr, fmt.Errorf("fakeaz: WithAdminToken: %w", err))
		}
	}
}

// WithAdminListen serves the admin API on its own listener at addr (host:port; "" is
// 127.0.0.1:0), started and closed with the server, and no longer on the main listener. Without
// WithAdminToken addr must be a loopback address. AdminURL reports where it listens.
func WithAdminListen(addr string) Option {
	return func(s *Server) {
		a, err := listen.Addr(addr)
		if err != nil {
			s.initErr = errors.Join(s.initErr, fmt.Errorf("fakeaz: WithAdminListen: %w", err))
			return
		}
		s.adminAddr = a
	}
}

// AdminHandler returns the admin API alone (what WithAdminListen serves), for mounting the
// admin API under another server. It applies WithAdminToken.
func (s *Server) AdminHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serve(w, r, true) })
}

// checkExposure refuses to start an open admin API on a non-loopback address.
func (s *Server) checkExposure(addr string) error {
	if s.adminAddr != "" {
		addr = s.adminAddr
	}
	exposed, ok := s.adminGuard.Exposed(addr)
	if !ok {
		return nil
	}
	return fmt.Errorf("%w: listening on %s: set an admin token (WithAdminToken; mcaspec fakeaz --admin-token, --admin-token-file or MCASPEC_ADMIN_TOKEN) or serve the admin API on a loopback address of its own (WithAdminListen; mcaspec fakeaz --admin-listen 127.0.0.1:9081)", ErrAdminExposed, exposed)
}

// adminAuthorized checks the admin token, answering 401 when it is missing or wrong.
func (s *Server) adminAuthorized(w http.ResponseWriter, r *http.Request) bool {
	if s.adminGuard.Authorize(w, r, "fakeaz admin", "the --admin-token of mcaspec fakeaz, WithAdminToken in Go") {
		return true
	}
	setOutcome(w, "unauthorized")
	return false
}
