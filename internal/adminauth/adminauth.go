// Package adminauth guards the admin APIs of the fake servers (fakeaz and
// the IdP simulators): they mint tokens or change what every trusting
// target sees, so off loopback they need a bearer secret.
package adminauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// ErrEmptyToken is reported for an empty secret.
var ErrEmptyToken = errors.New("the admin token is empty")

// Guard checks "Authorization: Bearer <secret>" on admin requests. The zero
// value has no secret and lets every request through (allowed on loopback
// only: see Exposed). The secret is kept as its SHA-256 and compared in
// constant time.
type Guard struct {
	sum *[32]byte
	err error
}

// SetToken requires secret from now on. An empty secret is an error (Err).
func (g *Guard) SetToken(secret string) {
	if secret == "" {
		g.err = ErrEmptyToken
		return
	}
	sum := sha256.Sum256([]byte(secret))
	g.sum, g.err = &sum, nil
}

// Err reports an invalid SetToken.
func (g *Guard) Err() error { return g.err }

// Exposed reports whether an admin API without a secret would listen on a
// non-loopback address; it returns that address (as listen.Addr resolves
// it). A bad address is not exposed: starting the server reports it.
func (g *Guard) Exposed(addr string) (string, bool) {
	if g.sum != nil {
		return "", false
	}
	a, err := listen.Addr(addr)
	if err != nil || listen.IsLoopback(a) {
		return "", false
	}
	return a, true
}

// Authorize reports whether r carries the secret (always true without
// one). Otherwise it answers 401 with a WWW-Authenticate challenge of realm
// and a JSON {"error":"unauthorized","error_description"} that ends with
// hint (where the secret is set).
func (g *Guard) Authorize(w http.ResponseWriter, r *http.Request, realm, hint string) bool {
	if g.sum == nil {
		return true
	}
	v := r.Header.Get("Authorization")
	if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		sum := sha256.Sum256([]byte(strings.TrimSpace(v[7:])))
		if subtle.ConstantTimeCompare(sum[:], g.sum[:]) == 1 {
			return true
		}
		deny(w, `Bearer realm="`+realm+`", error="invalid_token"`, "the admin token is wrong: send the admin token as Authorization: Bearer <token> ("+hint+")")
		return false
	}
	deny(w, `Bearer realm="`+realm+`"`, "the admin API needs Authorization: Bearer <admin token> ("+hint+")")
	return false
}

func deny(w http.ResponseWriter, challenge, desc string) {
	w.Header().Set("WWW-Authenticate", challenge)
	httpjson.Write(w, http.StatusUnauthorized, map[string]string{"error": "unauthorized", "error_description": desc})
}
