package kit

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/excerpt"
)

// Browser is a simulated browser of the web family: a cookie jar of its own
// (the target's session cookies and the AZ's sign-in cookie), requests that
// go wherever the pages send it (the target and the AZ), each recorded in
// the case's observation like every request of a case. A case can run two
// (a victim and an attacker).
type Browser struct {
	// Name is how the exchanges are labelled ("victim", "attacker").
	Name string
	// User is who the browser is signed in as at the AZ.
	User string
	env  *Env
	jar  *cookiejar.Jar
	hc   *http.Client
}

// WebClient is the target's web client at the AZ (the one the harness
// registered for the home app).
func (e *Env) WebClient() (fakeaz.WebClient, error) {
	cs := e.k.AZ.WebClients(e.k.HomeAppID)
	if len(cs) == 0 {
		return fakeaz.WebClient{}, fmt.Errorf("%w: no web client is registered for the home app %s (run with the web family)", ErrSetup, e.k.HomeAppID)
	}
	return cs[0], nil
}

// NewBrowser returns a browser signed in at the AZ as user.
func (e *Env) NewBrowser(name, user string) (*Browser, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("%w: cookie jar: %w", ErrSetup, err)
	}
	az, err := url.Parse(e.k.AZ.URL())
	if err != nil {
		return nil, fmt.Errorf("%w: AZ URL: %w", ErrSetup, err)
	}
	jar.SetCookies(az, []*http.Cookie{{Name: fakeaz.WebUserCookie, Value: user, Path: "/"}})
	// A connection per request: Go's transport silently retries a GET whose
	// reused connection died before the answer, and a target that drops the
	// connection (a crash in the handler) would then be judged on the retry.
	return &Browser{Name: name, User: user, env: e, jar: jar, hc: &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{DisableKeepAlives: true, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}, nil
}

// Cookies returns the browser's cookies for the target.
func (b *Browser) Cookies() []*http.Cookie {
	u, _ := url.Parse(b.env.k.Target)
	return b.jar.Cookies(u)
}

// Plant puts cookies for the target into the browser's jar.
func (b *Browser) Plant(cs []*http.Cookie) {
	u, _ := url.Parse(b.env.k.Target)
	var out []*http.Cookie
	for _, c := range cs {
		if c.Name == fakeaz.WebUserCookie {
			continue
		}
		out = append(out, &http.Cookie{Name: c.Name, Value: c.Value, Path: "/"})
	}
	b.jar.SetCookies(u, out)
}

// OnTarget reports whether u is on the target's origin.
func (b *Browser) OnTarget(u *url.URL) bool {
	t, err := url.Parse(b.env.k.Target)
	return err == nil && strings.EqualFold(u.Host, t.Host) && u.Scheme == t.Scheme
}

// Target returns the absolute URL of a path on the target.
func (b *Browser) Target(pathAndQuery string) string {
	return strings.TrimRight(b.env.k.Target, "/") + pathAndQuery
}

// Visit sends one GET (no redirect followed) and records it; requests to the
// target count for the wedge detection like every request of a case.
func (b *Browser) Visit(ctx context.Context, step, rawURL string) Exchange {
	step = b.Name + ": " + step
	x := Exchange{Step: step, Method: http.MethodGet, URL: rawURL}
	u, err := url.Parse(rawURL)
	if err != nil {
		x.Error = err.Error()
		return b.env.record(x)
	}
	target := b.OnTarget(u)
	if target {
		if why := b.env.k.unresponsive(); why != "" {
			x.Error = why
			return b.env.record(x)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, b.env.k.Bound()+2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodGet, rawURL, nil)
	if err != nil {
		x.Error = err.Error()
		return b.env.record(x)
	}
	x.RequestHeader = http.Header{}
	for _, c := range b.jar.Cookies(u) {
		x.RequestHeader.Add("Cookie", c.Name+"=…")
	}
	start := time.Now()
	resp, err := b.hc.Do(req)
	x.Latency = time.Since(start)
	if err != nil {
		x.Error, x.TimedOut = err.Error(), isTimeout(err)
	} else {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		x.Status, x.body, x.Body = resp.StatusCode, body, excerpt.Of(body, DefaultBodyExcerpt)
		x.Header = http.Header{}
		for _, k := range []string{"Location", "Content-Type", "Set-Cookie", "WWW-Authenticate"} {
			if v := resp.Header.Values(k); len(v) > 0 {
				x.Header[k] = v
			}
		}
	}
	if target {
		x = b.env.noted(ctx, x)
	}
	return b.env.record(x)
}

// Location resolves an exchange's Location header against its URL.
func Location(x Exchange) (*url.URL, bool) {
	loc := x.Header.Get("Location")
	if loc == "" || x.Status < 300 || x.Status > 399 {
		return nil, false
	}
	base, err := url.Parse(x.URL)
	if err != nil {
		return nil, false
	}
	u, err := base.Parse(loc)
	if err != nil {
		return nil, false
	}
	return u, true
}

// OffSite reports whether a Location value would take a browser away from
// the target: an absolute URL of another origin, or a path that browsers
// read as one (//host, /\host, \\host: the WHATWG URL parser treats '\' as
// '/' and ignores extra slashes).
func (b *Browser) OffSite(x Exchange) bool {
	// As a browser reads a URL (WHATWG URL: tabs and newlines anywhere are
	// removed, leading spaces and controls trimmed, "\" is "/").
	loc := strings.TrimLeftFunc(strings.NewReplacer("\t", "", "\n", "", "\r", "").Replace(x.Header.Get("Location")),
		func(r rune) bool { return r <= ' ' })
	if loc == "" {
		return false
	}
	lead := strings.ReplaceAll(loc, `\`, "/")
	if strings.HasPrefix(lead, "//") {
		return true
	}
	u, ok := Location(x)
	return ok && u.IsAbs() && !b.OnTarget(u)
}

// User fetches /web/protected without following redirects: the signed-in
// user's sub when it answers 200 with {"user": {"sub": …}}, else "".
func (b *Browser) WhoAmI(ctx context.Context, step string) (string, Exchange) {
	x := b.Visit(ctx, step, b.Target("/web/protected"))
	if x.Status != http.StatusOK {
		return "", x
	}
	var body struct {
		User map[string]any `json:"user"`
	}
	if json.Unmarshal(x.body, &body) != nil {
		return "", x
	}
	sub, _ := body.User["sub"].(string)
	if sub == "" && body.User != nil {
		sub = "(a user without sub)"
	}
	return sub, x
}

// SignInSteps is what a sign-in went through.
type SignInSteps struct {
	// Start is the target's answer to the first page; AuthRequest the
	// URL it sent the browser to (nil if it sent it nowhere).
	Start       Exchange
	AuthRequest *url.URL
	// Callback is the URL the AZ sent the browser back to (nil if none).
	Callback *url.URL
	// Done is the target's answer to the callback (zero before).
	Done Exchange
	// Final is the page the callback sent the browser to (zero if none).
	Final Exchange
}

// StartSignIn asks the target for a page while signed out and returns the
// authorization request it redirects to. A target that does not redirect
// to the authorization endpoint is recorded as a failed precondition.
func (b *Browser) StartSignIn(ctx context.Context, pathAndQuery string) (SignInSteps, bool) {
	var st SignInSteps
	st.Start = b.Visit(ctx, "open "+pathAndQuery, b.Target(pathAndQuery))
	for i := 0; i < 3; i++ { // a target may first redirect on its own site (a cleaned path, a login page)
		u, ok := Location(st.Start)
		if !ok || !b.OnTarget(u) {
			break
		}
		st.Start = b.Visit(ctx, "follow", u.String())
	}
	u, ok := Location(st.Start)
	authz, _ := b.env.k.AZ.WebEndpoints(b.env.k.HomeAppID)
	if !ok || !strings.HasPrefix(u.String(), authz) {
		b.env.obs.Failf("precondition: %s while signed out should redirect to the authorization endpoint %s, got %s (Location %q)",
			pathAndQuery, authz, st.Start.Brief(), st.Start.Header.Get("Location"))
		return st, false
	}
	st.AuthRequest = u
	return st, true
}

// Authorize sends the browser to the authorization request and returns the
// callback URL the AZ sends it back to (not visited).
func (b *Browser) Authorize(ctx context.Context, st *SignInSteps) error {
	x := b.Visit(ctx, "authorize at the AZ", st.AuthRequest.String())
	u, ok := Location(x)
	if !ok {
		if x.Status == http.StatusBadRequest {
			b.env.obs.Failf("the AZ refused the target's authorization request: %s", x.Body)
			return nil
		}
		return fmt.Errorf("%w: the AZ's authorization endpoint answered %s", ErrSetup, x.Brief())
	}
	st.Callback = u
	return nil
}

// Complete visits the callback URL (the judged exchange, until a later
// check judges another) and, when it redirects on the target, the page it
// sends the browser to.
func (b *Browser) Complete(ctx context.Context, st *SignInSteps, callback string) {
	st.Done = b.Visit(ctx, "callback", callback)
	MarkJudged(b.env, st.Done)
	if u, ok := Location(st.Done); ok && b.OnTarget(u) && !b.OffSite(st.Done) {
		st.Final = b.Visit(ctx, "after sign-in", u.String())
	}
}

// ToCallback runs a sign-in from pathAndQuery up to the AZ's redirect back
// (st.Callback, not visited). ok is false when a step did not happen
// (recorded as a failed precondition); err is a harness fault.
func (b *Browser) ToCallback(ctx context.Context, pathAndQuery string) (SignInSteps, bool, error) {
	st, ok := b.StartSignIn(ctx, pathAndQuery)
	if !ok {
		return st, false, nil
	}
	if err := b.Authorize(ctx, &st); err != nil || st.Callback == nil {
		return st, false, err
	}
	return st, true, nil
}

// SignIn runs the whole flow from pathAndQuery. ok is false when a step did
// not happen (recorded as a failed precondition); err is a harness fault.
func (b *Browser) SignIn(ctx context.Context, pathAndQuery string) (SignInSteps, bool, error) {
	st, ok, err := b.ToCallback(ctx, pathAndQuery)
	if ok {
		b.Complete(ctx, &st, st.Callback.String())
	}
	return st, ok, err
}

// MarkJudged marks x as the judged exchange (the last one with its step and URL).
func MarkJudged(e *Env, x Exchange) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for i := len(e.obs.Exchanges) - 1; i >= 0; i-- {
		if e.obs.Exchanges[i].Step == x.Step && e.obs.Exchanges[i].URL == x.URL {
			e.obs.JudgedIndex = &i
			return
		}
	}
}
