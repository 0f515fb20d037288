package sim

import (
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
)

// Base is the plumbing every simulator's Server holds besides its own
// tables: the admin guard, the listener, the current fault (and how many
// requests it hit) and the router. A Server keeps one Base, calls Init in
// its constructor and delegates its own documented methods to it.
type Base struct {
	// Admin guards the /admin/ routes (the simulator's WithAdminToken sets it).
	Admin AdminGuard

	name   string // e.g. "custom simulator", in Start's errors
	faults Faults
	faultN atomic.Int64
	ln     Listener
	mux    *http.ServeMux
}

// Init names the simulator and builds its router from k, whose admin fault
// routes serve the Base's fault.
func (b *Base) Init(name string, k Skeleton) {
	b.name = name
	k.Faults = &b.faults
	b.mux = k.Mux()
}

// ServeHTTP checks the admin token on the admin routes, then routes.
func (b *Base) ServeHTTP(w http.ResponseWriter, r *http.Request) { b.Admin.Serve(w, r, b.mux) }

// Start serves h (the simulator's own handler, which ends in ServeHTTP) on
// addr, refusing an open admin API off loopback.
func (b *Base) Start(addr string, h http.Handler) error { return b.Admin.Start(&b.ln, b.name, addr, h) }

// URL is the base URL after Start ("" before).
func (b *Base) URL() string { return b.ln.URL() }

// Close stops the server and releases hanging requests.
func (b *Base) Close() error { return b.ln.Close() }

// SetFault replaces the fault of the provider routes.
func (b *Base) SetFault(f idp.Fault) { b.faults.Set(f) }

// FaultsHit is the number of provider requests a fault has answered or held.
func (b *Base) FaultsHit() int64 { return b.faultN.Load() }

// Enter counts a provider request in n (nil: not counted) and applies the
// current fault; false means the fault has answered or dropped the request.
func (b *Base) Enter(w http.ResponseWriter, r *http.Request, n *atomic.Int64) bool {
	if n != nil {
		n.Add(1)
	}
	return !b.faults.Apply(w, r, b.ln.Done(), &b.faultN)
}

// NoRoute answers a path no route serves with a 404 naming the package
// documentation of the simulator (e.g. "fakeaz/idp/google").
func NoRoute(pkg string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		NotFound(w, fmt.Sprintf("no route %s %s; see the package documentation of %s", r.Method, r.URL.Path, pkg))
	}
}

// AdminRevoke is POST /admin/revoke: {"token": "..."} revoked with revoke,
// answered {"revoked": whether the token was known}.
func AdminRevoke(revoke func(tok string) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Token string `json:"token"`
		}
		if !DecodeJSON(w, r, &req) {
			return
		}
		WriteJSON(w, http.StatusOK, map[string]bool{"revoked": revoke(req.Token)})
	}
}
