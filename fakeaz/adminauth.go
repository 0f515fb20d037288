package fakeaz

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"

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
		if secret == "" {
			s.initErr = errors.Join(s.initErr, errors.New("fakeaz: WithAdminToken: the secret is empty"))
			return
		}
		sum := sha256.Sum256([]byte(secret))
		s.adminSum = &sum
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
	if s.adminSum != nil {
		return nil
	}
	a, err := listen.Addr(addr)
	if err != nil {
		return nil // Start reports it
	}
	exposed := a
	if s.adminAddr != "" {
		exposed = s.adminAddr
	}
	if listen.IsLoopback(exposed) {
		return nil
	}
	return fmt.Errorf("%w: listening on %s: set an admin token (WithAdminToken; mcaspec fakeaz --admin-token, --admin-token-file or MCASPEC_ADMIN_TOKEN) or serve the admin API on a loopback address of its own (WithAdminListen; mcaspec fakeaz --admin-listen 127.0.0.1:9081)", ErrAdminExposed, exposed)
}

// adminAuthorized checks the admin token, answering 401 when it is missing or wrong.
func (s *Server) adminAuthorized(w http.ResponseWriter, r *http.Request) bool {
	if s.adminSum == nil {
		return true
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		if v := r.Header.Get("Authorization"); len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			got, ok = v[7:], true
		}
	}
	if ok {
		sum := sha256.Sum256([]byte(strings.TrimSpace(got)))
		if subtle.ConstantTimeCompare(sum[:], s.adminSum[:]) == 1 {
			return true
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="fakeaz admin", error="invalid_token"`)
		writeErr(w, http.StatusUnauthorized, "unauthorized", "the admin token is wrong: send the admin token of this fakeaz as Authorization: Bearer <token>")
		return false
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="fakeaz admin"`)
	writeErr(w, http.StatusUnauthorized, "unauthorized", "the admin API needs Authorization: Bearer <admin token> (the --admin-token of mcaspec fakeaz, WithAdminToken in Go)")
	return false
}
