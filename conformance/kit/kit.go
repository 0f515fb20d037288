// Package kit is what a conformance case acts with: the Env a recipe
// receives (send a request to the target, mint tokens for a fresh app,
// drive a browser through a web sign-in), the Observation that records
// every exchange, the Outcomes an exchange is judged against, the sink and
// the attacker's key server, and the Family a target speaks. The catalogue
// (package conformance) is written in these terms; the kit knows no case
// and no run policy.
package kit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
)

// Kit is what a case acts with through its Env: the target and the
// servers of the run, the identities the target was configured with, and
// the record of whether the target still answers. The Runner holds one;
// an Env reaches the Kit, never the Runner.
type Kit struct {
	// Target is the target's base URL (http://127.0.0.1:PORT).
	Target string
	// AZ is the fake authorization server the target was configured with.
	AZ *fakeaz.Server
	// FixedAppID, when set, is the only app id the target serves
	// (backend-style targets): every case uses it, cases that need another
	// app are skipped and AZ-control cases run last.
	FixedAppID string
	// HomeAppID is the app id the target was configured with (MCA_APP_ID);
	// its service tokens are for this app.
	HomeAppID string
	// ServiceClientID is the target's service client id (MCA_CLIENT_ID).
	ServiceClientID string
	// Family is the protocol family of the target: apps are registered and
	// tokens minted in its shape, App ID generation included (zero: MCA).
	Family Family
	// ResponseBound: see DefaultResponseBound.
	ResponseBound time.Duration
	// HTTP is the client for the target (no redirects followed).
	HTTP *http.Client
	// Sink records requests the target makes downstream.
	Sink *Sink
	// Attacker serves an attacker's key and counts fetches.
	Attacker *Attacker
	// Relaunch restarts a web target with MCA_CALLBACK_URL set to
	// callbackURL (on the same address); nil when the harness cannot (a
	// --target URL), and the cases that need it are SKIPPED.
	Relaunch func(ctx context.Context, callbackURL string) error
	// WedgeAfter: see DefaultWedgeAfter.
	WedgeAfter int
	// ProbeTimeout: see DefaultProbeTimeout.
	ProbeTimeout time.Duration

	seq atomic.Int64
	// timeouts counts consecutive requests that got no answer in time; any
	// answer resets it. Once it reaches WedgeAfter, requests are no longer
	// sent (they fail at once) until ResetTimeouts.
	timeouts atomic.Int64
	// keyTimeouts counts key-path probes in a row that got no answer in time
	// (see CheckResponsive); any answer resets it.
	keyTimeouts atomic.Int64
	probing     sync.Mutex
}

func (k *Kit) wedgeAfter() int64 {
	if k.WedgeAfter > 0 {
		return int64(k.WedgeAfter)
	}
	return DefaultWedgeAfter
}

// noteAnswer records whether a request to the target got an answer.
func (k *Kit) noteAnswer(x *Exchange) {
	switch {
	case x.TimedOut, x.refused: // no answer: too late, or nothing listens any more
		k.timeouts.Add(1)
	case x.Error == "":
		k.timeouts.Store(0)
	}
}

// Timeouts returns how many requests in a row got no answer in time.
func (k *Kit) Timeouts() int { return int(k.timeouts.Load()) }

// ResetTimeouts forgets the timeouts (after the target was restarted).
func (k *Kit) ResetTimeouts() { k.timeouts.Store(0); k.keyTimeouts.Store(0) }

// KeyPathWedged says why the target counts as wedged where it needs a key
// ("" while it is not): it answers requests that need no key, but WedgeAfter
// key-path probes in a row timed out. Requests carrying a token are then no
// longer sent (they fail at once with KeyPathNotSent) until ResetTimeouts.
func (k *Kit) KeyPathWedged() string {
	if n := k.keyTimeouts.Load(); n >= k.wedgeAfter() {
		return fmt.Sprintf("the target answers requests that need no key, but %d requests in a row with a valid token for its own app timed out: it is wedged where it needs a key", n)
	}
	return ""
}

// KeyPathNotSent starts the error of a request not sent to a target wedged
// where it needs a key.
const KeyPathNotSent = "not sent: the key path is wedged: "

// probeKeyPath sends, up to WedgeAfter times while each times out, a request
// that needs the key path: a valid token pair for the target's own app.
func (k *Kit) probeKeyPath(ctx context.Context, timeout time.Duration) {
	e := &Env{k: k, caseID: "probe"}
	f, err := k.AZ.Factory(k.probeApp())
	if err != nil {
		return // no such app at the AZ: nothing to probe with
	}
	p, err := (&App{ID: k.probeApp(), Factory: f, Env: e}).Mint(true, nil, nil)
	if err != nil {
		return
	}
	h := http.Header{"Authorization": {p.Header()}}
	for k.keyTimeouts.Load() < k.wedgeAfter() && ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		x := e.transmit(pctx, "key probe", "/v1/apps/"+k.probeApp()+"/protected", h)
		cancel()
		if !x.TimedOut {
			k.keyTimeouts.Store(0)
			return
		}
		k.keyTimeouts.Add(1)
	}
}

// sendsToken reports whether a request's headers carry a JWS-looking token
// (a request a target wedged on its key path would hang on).
func sendsToken(h http.Header) bool {
	for _, v := range h.Values("Authorization") {
		if strings.Contains(v, ".") {
			return true
		}
	}
	return false
}

// Unresponsive says why a request is not sent ("" to send it).
func (k *Kit) unresponsive() string {
	if n := k.timeouts.Load(); n >= k.wedgeAfter() {
		return fmt.Sprintf("not sent: the target stopped answering (%d requests in a row timed out)", n)
	}
	return ""
}

// CheckResponsive runs after a request timed out (at once when the AZ is
// not being faulted, else between cases, once the faults are cleared). It
// probes the target with a request that needs no AZ (the protected route
// without credentials, which a live target answers at once) until the
// target answers or WedgeAfter requests in a row have timed out. It reports
// whether the target is unresponsive, and the count. One probe runs at a
// time; concurrent callers get the state as it is.
func (k *Kit) CheckResponsive(ctx context.Context) (bool, int) {
	if k.probing.TryLock() {
		probe := k.ProbeTimeout
		if probe <= 0 {
			probe = DefaultProbeTimeout
		}
		triggered := k.timeouts.Load() > 0
		for k.timeouts.Load() > 0 && k.timeouts.Load() < k.wedgeAfter() && ctx.Err() == nil {
			pctx, cancel := context.WithTimeout(ctx, probe)
			e := &Env{k: k, caseID: "probe"}
			x := e.transmit(pctx, "probe", "/v1/apps/"+k.probeApp()+"/protected", nil)
			cancel()
			k.noteAnswer(&x)
		}
		// It answers without a key: does it still answer where it needs one?
		if triggered && k.timeouts.Load() == 0 && !k.Family.IsWeb() && k.AZ != nil && k.KeyPathWedged() == "" {
			k.probeKeyPath(ctx, probe)
		}
		k.probing.Unlock()
	}
	n := k.timeouts.Load()
	return n >= k.wedgeAfter(), int(n)
}

// Unresponsive reports whether the target stopped answering (requests are
// no longer sent); loops that wait for the target give up then.
func (k *Kit) Unresponsive() bool { return k.unresponsive() != "" }

func (k *Kit) probeApp() string {
	if k.HomeAppID != "" {
		return k.HomeAppID
	}
	return "00000000-0000-4000-8000-000000000000"
}

// Bound is the longest the target may take to answer one request.
func (k *Kit) Bound() time.Duration {
	if k.ResponseBound > 0 {
		return k.ResponseBound
	}
	return DefaultResponseBound
}

// Defaults of a run.
const (
	// DefaultResponseBound is the longest a target may take to answer one
	// request; slower counts as a hang.
	DefaultResponseBound = 5 * time.Second
	// DefaultBodyExcerpt is how much of a response body a result keeps.
	DefaultBodyExcerpt = 1024
	// DefaultWedgeAfter is how many consecutive requests (probes
	// included) must time out before the target counts as unresponsive.
	DefaultWedgeAfter = 3
	// DefaultProbeTimeout bounds a probe: a request without credentials,
	// which a live target answers at once (no AZ, no key).
	DefaultProbeTimeout = 2 * time.Second
)

// ErrSetup marks errors of the harness itself, not of the target: a recipe
// that returns any error (this one or another) makes its case ERROR.
var ErrSetup = errors.New("harness setup")
