package kit

import (
	"bufio"
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/internal/sleep"

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Env is what a recipe works with while its case runs. It keeps the
// record: every request it sends to the target goes into the case's
// observation, so a recipe only acts, adds the checks and facts only it
// knows (Observation().Failf, Fact, Want) and returns an error for a
// harness fault.
type Env struct {
	obs      *Observation
	mu       sync.Mutex
	k        *Kit
	caseID   string
	cleanups []func()
}

// Observation is the case's record: every exchange sent through the Env
// is already in it.
func (e *Env) Observation() *Observation { return e.obs }

// record adds an exchange to the observation (safe for concurrent requests).
func (e *Env) record(x Exchange) Exchange {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.obs.Add(x)
	return x
}

// Kit returns what the case acts with (target URL, AZ, sink, attacker).
func (e *Env) Kit() *Kit { return e.k }

// NewEnv returns the Env of one run of case caseID on k, with an empty
// observation.
func NewEnv(k *Kit, caseID string) *Env { return &Env{k: k, caseID: caseID, obs: &Observation{}} }

// CaseID is the ID of the case this Env runs.
func (e *Env) CaseID() string { return e.caseID }

// AZ returns the fake authorization server.
func (e *Env) AZ() *fakeaz.Server { return e.k.AZ }

// Defer registers a cleanup that runs when the case ends (e.g. ClearFaults).
func (e *Env) Defer(f func()) { e.cleanups = append(e.cleanups, f) }

// Cleanup runs the functions registered with Defer, last first.
func (e *Env) Cleanup() {
	for i := len(e.cleanups) - 1; i >= 0; i-- {
		e.cleanups[i]()
	}
}

// App is an app at the AZ that a case mints tokens for.
type App struct {
	ID      string
	Factory *tokenfactory.Factory
	Env     *Env
}

// NewApp returns a fresh app registered at the AZ (or the fixed app in
// fixed-app-id mode). Its tokens are signed by the AZ's key for the app.
func (e *Env) NewApp(ctx context.Context) (*App, error) {
	id := e.k.FixedAppID
	if id == "" {
		a, err := e.k.AZ.AddApp(fakeaz.App{BundleID: "com.example.mcaspec", Shape: e.k.Family.Shape()})
		if err != nil {
			return nil, fmt.Errorf("%w: add app: %w", ErrSetup, err)
		}
		id = a.ID
		e.Defer(func() { _ = e.k.AZ.RemoveApp(id) })
	}
	f, err := e.k.AZ.Factory(id)
	if err != nil {
		return nil, fmt.Errorf("%w: token factory for %s: %w", ErrSetup, id, err)
	}
	return &App{ID: id, Factory: f, Env: e}, nil
}

// AccessToken mints an access token with the app's key (the factory has the
// token shape of the app's profile).
func (a *App) AccessToken(acc tokenfactory.Access, muts ...tokenfactory.Mutation) (string, error) {
	return a.Factory.AccessToken(acc, muts...)
}

// IDToken mints an id token with the app's key.
func (a *App) IDToken(spec tokenfactory.ID, muts ...tokenfactory.Mutation) (string, error) {
	return a.Factory.IDToken(spec, muts...)
}

// ClientID returns a client id unique within the run, so no two cases share tokens.
func (e *Env) ClientID() string {
	return fmt.Sprintf("conformance-%s-%d", strings.ToLower(e.caseID), e.k.seq.Add(1))
}

// Pair is a minted token pair and the security context a target must produce for it.
type Pair struct {
	Access, ID string
	Want       *SecurityContext
}

// Header returns "Bearer <access> <id>" (or without the id token).
func (p Pair) Header() string {
	if p.ID == "" {
		return "Bearer " + p.Access
	}
	return "Bearer " + p.Access + " " + p.ID
}

// Mint makes an access token (and, if withID, an id token with a user, a
// device and an application) for a fresh client of the app, applying the
// mutations to each.
func (a *App) Mint(withID bool, accessMuts, idMuts []tokenfactory.Mutation) (Pair, error) {
	client := a.Env.ClientID()
	return a.MintFor(client, withID, accessMuts, idMuts)
}

// MintFor is Mint for a given client id.
func (a *App) MintFor(client string, withID bool, accessMuts, idMuts []tokenfactory.Mutation) (Pair, error) {
	acc, err := a.AccessToken(tokenfactory.Access{AppID: a.ID, ClientID: client}, accessMuts...)
	if err != nil {
		return Pair{}, fmt.Errorf("%w: mint access token: %w", ErrSetup, err)
	}
	p := Pair{Access: acc, Want: &SecurityContext{Sub: client, User: map[string]any{}, Device: map[string]any{}, Application: map[string]any{}}}
	if !withID {
		return p, nil
	}
	spec := DefaultIDSpec(a.ID, client)
	if p.ID, err = a.IDToken(spec, idMuts...); err != nil {
		return Pair{}, fmt.Errorf("%w: mint id token: %w", ErrSetup, err)
	}
	p.Want = WantContext(spec)
	return p, nil
}

// DefaultIDSpec is the id token cases mint: a custom-realm user with
// attributes, an iOS device, an application.
func DefaultIDSpec(appID, client string) tokenfactory.ID {
	return tokenfactory.ID{
		AppID: appID, ClientID: client,
		User:        &tokenfactory.User{ID: "user-" + client, AuthBy: "customRealm", DisplayName: "Conformance User", Attributes: map[string]any{"email": "user@example.com", "tier": "gold"}},
		Device:      tokenfactory.Device{ID: "device-" + client, Platform: "iOSnative", Model: "iPhone15,2", OSVersion: "17.1"},
		Application: tokenfactory.Application{ID: "com.example.mcaspec", Version: "1.0"},
	}
}

// Protected sends GET /v1/apps/{appID}/protected with the given
// Authorization header values (none, one, or several lines).
func (e *Env) Protected(ctx context.Context, step, appID string, auth ...string) Exchange {
	h := http.Header{}
	for _, v := range auth {
		h.Add("Authorization", v)
	}
	return e.Get(ctx, step, "/v1/apps/"+appID+"/protected", h)
}

// RawAbove is the header size from which Get sends requests with Raw, so
// that a server refusing an oversized request early is still heard.
const RawAbove = 32 << 10

// Get sends a GET to the target and records the exchange.
func (e *Env) Get(ctx context.Context, step, pathAndQuery string, h http.Header) Exchange {
	return e.record(e.send(ctx, step, pathAndQuery, h))
}

// send is Get without the record: it sends, notes whether the target
// answered, and, when it did not and the AZ is not being faulted (the
// target has no excuse), probes it at once (Runner.CheckResponsive) so a
// wedged target is known after one timeout and a few short probes.
func (e *Env) send(ctx context.Context, step, pathAndQuery string, h http.Header) Exchange {
	return e.noted(ctx, e.transmit(ctx, step, pathAndQuery, h))
}

func (e *Env) noted(ctx context.Context, x Exchange) Exchange {
	e.k.noteAnswer(&x)
	if x.TimedOut && (e.k.AZ == nil || len(e.k.AZ.Faults()) == 0) {
		e.k.CheckResponsive(ctx)
	}
	return x
}

// transmit sends one GET and reports what came back.
func (e *Env) transmit(ctx context.Context, step, pathAndQuery string, h http.Header) Exchange {
	size := 0
	var lines []string
	for k, vs := range h {
		for _, v := range vs {
			size += len(k) + len(v)
			lines = append(lines, k+": "+v)
		}
	}
	if size > RawAbove {
		return e.transmitRaw(ctx, step, pathAndQuery, lines...)
	}
	u := strings.TrimRight(e.k.Target, "/") + pathAndQuery
	x := Exchange{Step: step, Method: http.MethodGet, URL: u, RequestHeader: h}
	if why := e.k.unresponsive(); why != "" {
		x.Error = why
		return x
	}
	if why := e.k.KeyPathWedged(); why != "" && e.caseID != "probe" && sendsToken(h) {
		x.Error = KeyPathNotSent + why
		return x
	}
	ctx, cancel := context.WithTimeout(ctx, e.k.Bound()+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		x.Error = err.Error()
		return x
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	start := time.Now()
	resp, err := e.k.HTTP.Do(req)
	x.Latency = time.Since(start)
	if err != nil {
		x.Error, x.TimedOut = err.Error(), isTimeout(err)
		x.refused = errors.Is(err, syscall.ECONNREFUSED)
		return x
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	x.Status = resp.StatusCode
	x.Header = http.Header{}
	for _, k := range []string{"WWW-Authenticate", "Content-Type"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			x.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	x.body = body
	x.Body = excerpt.Of(body, DefaultBodyExcerpt)
	return x
}

// Raw sends a hand-written HTTP/1.1 GET over TCP, for headers net/http
// refuses to send (CR, obsolete line folding) and for oversized requests: the
// response is read while the request is still being written, so a server
// that answers 431 and closes early is seen answering, not as a broken pipe.
func (e *Env) Raw(ctx context.Context, step, path string, headerLines ...string) Exchange {
	return e.record(e.sendRaw(ctx, step, path, headerLines...))
}

// sendRaw is Raw without the record (see send).
func (e *Env) sendRaw(ctx context.Context, step, path string, headerLines ...string) Exchange {
	return e.noted(ctx, e.transmitRaw(ctx, step, path, headerLines...))
}

// transmitRaw sends one hand-written GET and reports what came back.
func (e *Env) transmitRaw(ctx context.Context, step, path string, headerLines ...string) Exchange {
	u, err := url.Parse(e.k.Target)
	x := Exchange{Step: step, Method: http.MethodGet, URL: strings.TrimRight(e.k.Target, "/") + path}
	if err != nil {
		x.Error = err.Error()
		return x
	}
	if why := e.k.unresponsive(); why != "" {
		x.Error = why
		return x
	}
	d := net.Dialer{Timeout: e.k.Bound()}
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		x.Error, x.TimedOut = err.Error(), isTimeout(err)
		x.refused = errors.Is(err, syscall.ECONNREFUSED)
		return x
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(e.k.Bound() + 2*time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\n", path, u.Host)
	for _, l := range headerLines {
		b.WriteString(l + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	x.RequestHeader = http.Header{}
	for _, l := range headerLines {
		k, v, _ := strings.Cut(l, ":")
		x.RequestHeader.Add(k, strings.TrimSpace(v))
	}
	start := time.Now()
	writeErr := make(chan error, 1)
	go func() {
		_, err := io.WriteString(conn, b.String())
		writeErr <- err
	}()
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	x.Latency = time.Since(start)
	if err != nil {
		if werr := <-writeErr; werr != nil {
			err = fmt.Errorf("%w (while sending: %w)", err, werr)
		}
		x.Error, x.TimedOut = "no HTTP response: "+err.Error(), isTimeout(err)
		return x
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	x.Status, x.body, x.Body = resp.StatusCode, body, excerpt.Of(body, DefaultBodyExcerpt)
	x.Header = http.Header{}
	for _, k := range []string{"WWW-Authenticate", "Content-Type"} {
		if v := resp.Header.Values(k); len(v) > 0 {
			x.Header[http.CanonicalHeaderKey(k)] = v
		}
	}
	return x
}

// ProtectedConcurrently sends every pair to the protected route at once and
// returns the exchanges, recorded in the order of pairs (the last pair's is
// the judged one).
func (e *Env) ProtectedConcurrently(ctx context.Context, appID string, pairs []Pair) []Exchange {
	xs := make([]Exchange, len(pairs))
	var g errgroup.Group
	for i := range pairs {
		g.Go(func() error {
			xs[i] = e.send(ctx, fmt.Sprintf("request %d", i), "/v1/apps/"+appID+"/protected", http.Header{"Authorization": {pairs[i].Header()}})
			return nil
		})
	}
	_ = g.Wait()
	for _, x := range xs {
		e.record(x)
	}
	return xs
}

// isTimeout reports whether err means no answer came in time.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

// AttackerKey returns the attacker's private key.
func (e *Env) AttackerKey() *rsa.PrivateKey { return e.k.Attacker.Key }

// SinkURL returns a fresh URL at the sink for this case; Downstream(u)
// returns what arrived there.
func (e *Env) SinkURL() string {
	return e.k.Sink.URL() + "/case/" + url.PathEscape(e.caseID) + fmt.Sprintf("/%d", e.k.seq.Add(1))
}

// Downstream returns the requests the sink received at u.
func (e *Env) Downstream(u string) []SinkRequest { return e.k.Sink.Received(u) }

// FreshPair registers a fresh app and mints a pair for it (an id token too
// if withID), the access token changed by accessMuts.
func FreshPair(ctx context.Context, e *Env, withID bool, accessMuts ...tokenfactory.Mutation) (*App, Pair, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, Pair{}, err
	}
	p, err := app.Mint(withID, accessMuts, nil)
	return app, p, err
}

// TwoApps registers two fresh apps and mints a valid pair for the first:
// the set-up of the cases about app A's token or key used at app B.
func TwoApps(ctx context.Context, e *Env) (a, b *App, p Pair, err error) {
	if a, p, err = FreshPair(ctx, e, true); err != nil {
		return nil, nil, Pair{}, err
	}
	b, err = e.NewApp(ctx)
	return a, b, p, err
}

// ExpectAccepted sends a valid pair to the app's protected route as the
// precondition of a case about what the target does next: it reports
// whether the target accepted the pair with its context. When it did not,
// the observation says so (the case FAILs: it cannot test what it is
// about) and the recipe ends.
func (e *Env) ExpectAccepted(ctx context.Context, step, appID string, p Pair) bool {
	x := e.Protected(ctx, step, appID, p.Header())
	if ok, why := Accepted.Match(&x, p.Want); !ok {
		e.Observation().Failf("precondition: %s should be accepted but got %s (%s)", x.Step, x.Brief(), why)
		return false
	}
	return true
}

// SendPair records the pair's tokens and the context they imply, and sends
// the pair to the app's protected route.
func (e *Env) SendPair(ctx context.Context, step, appID string, p Pair) Exchange {
	e.obs.pair(p)
	return e.Protected(ctx, step, appID, p.Header())
}

// SendFreshPairs mints n valid pairs for fresh clients of the app (pair i
// with an id token unless noID(i); nil: every pair has one) and sends them
// at once (ProtectedConcurrently).
func (e *Env) SendFreshPairs(ctx context.Context, app *App, n int, noID func(i int) bool) ([]Pair, []Exchange, error) {
	pairs := make([]Pair, n)
	for i := range pairs {
		p, err := app.Mint(noID == nil || !noID(i), nil, nil)
		if err != nil {
			return nil, nil, err
		}
		pairs[i] = p
	}
	return pairs, e.ProtectedConcurrently(ctx, app.ID, pairs), nil
}

// SleepUntil waits until t or ctx ends. The harness waits for real time to
// pass only where a rule is about real time (token expiry).
func SleepUntil(ctx context.Context, t time.Time) error { return sleep.Until(ctx, t) }

// bindAttacker replaces the nil attacker key of the catalogue's mutations
// with the run's attacker key.
func bindAttacker(ms []tokenfactory.Mutation, e *Env) []tokenfactory.Mutation {
	out := make([]tokenfactory.Mutation, len(ms))
	for i, m := range ms {
		out[i] = m
		if m.WithKey != nil {
			out[i] = m.WithKey(e.AttackerKey())
		}
	}
	return out
}

// Fault sets an AZ fault for the app and clears every fault when the case ends.
func (e *Env) Fault(appID string, f fakeaz.FaultSpec) error {
	f.AppID = appID
	if err := e.AZ().SetFault(f); err != nil {
		return fmt.Errorf("%w: set fault: %w", ErrSetup, err)
	}
	e.Defer(e.AZ().ClearFaults)
	return nil
}
