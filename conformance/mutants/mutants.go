// Package mutants holds deliberately broken validators — the reference
// target with one check disabled or one known bug added — and runs the
// conformance catalogue against each, to test the harness itself: every
// mutant must be caught by at least one case, and a case that catches no
// mutant is suspect.
package mutants

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/reference"
)

// Mutant is one broken validator.
type Mutant struct {
	Name string
	// Bug says what is broken, in one sentence.
	Bug string
	// Config breaks the reference validator's config (may be nil).
	Config func(*reference.Config)
	// Wrap breaks the target around the validator (may be nil).
	Wrap func(http.Handler) http.Handler
}

// All returns every mutant, sorted by name.
func All() []Mutant {
	sw := func(name, bug string, f func(*reference.Config)) Mutant {
		return Mutant{Name: name, Bug: bug, Config: f}
	}
	ms := []Mutant{
		sw("no-exp-check", "exp is never checked", func(c *reference.Config) { c.InsecureSkipExpiry = true }),
		sw("exp-optional", "a token without exp is accepted", func(c *reference.Config) { c.InsecureAllowMissingExp = true }),
		sw("no-nbf-check", "nbf is never checked", func(c *reference.Config) { c.InsecureSkipNotBefore = true }),
		sw("no-aud-check", "aud is never compared with the app id", func(c *reference.Config) { c.InsecureSkipAudience = true }),
		sw("aud-optional", "a token without aud is accepted", func(c *reference.Config) { c.InsecureAllowMissingAudience = true }),
		sw("no-iss-check", "iss is never checked", func(c *reference.Config) { c.InsecureSkipIssuer = true }),
		sw("no-id-binding", "an id token of another client is accepted", func(c *reference.Config) { c.InsecureSkipIDTokenBinding = true }),
		sw("id-token-ignored", "the id token is neither parsed nor verified", func(c *reference.Config) { c.InsecureSkipIDToken = true }),
		sw("no-signature-check", "signatures are never verified", func(c *reference.Config) { c.InsecureSkipSignature = true }),
		sw("accepts-hs256", "HS256 is verified as HMAC keyed with the public key's PEM", func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"HS256"} }),
		sw("accepts-alg-none", "alg none (any spelling) skips verification", func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"none"} }),
		sw("accepts-rs512", "RS512 and PS256 are accepted with the AZ key", func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"RS512", "PS256"} }),
		sw("trusts-jpk", "the key embedded in the token's jpk header is trusted", func(c *reference.Config) { c.InsecureTrustEmbeddedKey = true }),
		sw("duplicate-keys", "JSON with duplicate claims is accepted, the last one wins", func(c *reference.Config) { c.InsecureAllowDuplicateKeys = true }),
		sw("cache-ignores-app", "the context cache is not keyed by app id", func(c *reference.Config) { c.InsecureCacheIgnoreAppID = true }),
		sw("cache-ignores-signature", "the context cache is not keyed by the signatures", func(c *reference.Config) { c.InsecureCacheIgnoreSignature = true }),
		sw("cache-outlives-exp", "cached contexts are served past the tokens' exp", func(c *reference.Config) { c.InsecureCacheIgnoreExpiry = true }),
		sw("hangs-on-outage", "a key fetch may take 30 s, so an AZ that hangs hangs the target", func(c *reference.Config) { c.FetchTimeout = 30 * time.Second }),
		sw("lax-leeway", "5 minutes of clock leeway on exp and nbf", func(c *reference.Config) { c.Leeway = 5 * time.Minute }),
		sw("no-negative-cache", "a failed key fetch is not remembered: every request for an unknown app fetches again", func(c *reference.Config) { c.NegativeTTL = time.Nanosecond }),
		{Name: "errors-as-500", Bug: "every 4xx the validator sends becomes a 500", Wrap: errorsAs500},
		{Name: "fails-open", Bug: "when the AZ key cannot be had (503), the request is let through with an empty context", Wrap: failOpen},
		{Name: "service-call-forwards-user-token", Bug: "service-call forwards the user's Authorization header instead of a service token", Wrap: serviceCallForwardsUserToken},
		{Name: "id-token-required", Bug: "a request with an access token alone is refused", Wrap: idTokenRequired},
		{Name: "propagation-drops-id-token", Bug: "propagation forwards 'Bearer <access>' only", Wrap: dropIDTokenOnPropagate},
		{Name: "propagation-unprotected", Bug: "/propagate forwards without validating the token", Wrap: unprotectedPropagate},
		{Name: "propagation-forwards-identity-headers", Bug: "propagation copies the client's X-Imf-* and X-Forwarded-User headers downstream", Wrap: forwardIdentityHeaders},
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

// errorsAs500 turns every 4xx of the target into a 500.
func errorsAs500(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&statusRewriter{ResponseWriter: w}, r)
	})
}

type statusRewriter struct{ http.ResponseWriter }

func (s *statusRewriter) WriteHeader(code int) {
	if code >= 400 && code < 500 {
		code = http.StatusInternalServerError
	}
	s.ResponseWriter.WriteHeader(code)
}

func failOpen(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code == http.StatusServiceUnavailable {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"imf.sub":"","imf.user":{},"imf.device":{},"imf.application":{}}`)
			return
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	})
}

func serviceCallForwardsUserToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/service-call") {
			r.URL.Path = strings.TrimSuffix(r.URL.Path, "/service-call") + "/propagate"
		}
		h.ServeHTTP(w, r)
	})
}

func idTokenRequired(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := strings.Fields(r.Header.Get("Authorization")); len(f) == 2 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="imfAuthentication", error="invalid_token"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func isPropagate(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/propagate") }

func dropIDTokenOnPropagate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f := strings.Fields(r.Header.Get("Authorization")); isPropagate(r) && len(f) == 3 {
			r.Header.Set("Authorization", f[0]+" "+f[1])
		}
		h.ServeHTTP(w, r)
	})
}

// forward GETs to with the given headers and answers with its status.
func forward(w http.ResponseWriter, r *http.Request, hdr http.Header) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, r.URL.Query().Get("to"), nil)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req.Header = hdr
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	w.WriteHeader(resp.StatusCode)
}

func unprotectedPropagate(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPropagate(r) {
			h.ServeHTTP(w, r)
			return
		}
		forward(w, r, http.Header{"Authorization": r.Header.Values("Authorization")})
	})
}

func forwardIdentityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !isPropagate(r) {
			h.ServeHTTP(w, r)
			return
		}
		// Validate through the real protected route, then forward too much.
		check := r.Clone(r.Context())
		check.URL.Path = strings.TrimSuffix(r.URL.Path, "/propagate") + "/protected"
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, check)
		if rec.Code != http.StatusOK {
			for k, v := range rec.Header() {
				w.Header()[k] = v
			}
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
			return
		}
		hdr := http.Header{}
		for k, v := range r.Header {
			if k == "Authorization" || strings.HasPrefix(k, "X-Imf-") || k == "X-Forwarded-User" {
				hdr[k] = v
			}
		}
		forward(w, r, hdr)
	})
}

// Outcome is what the catalogue did against one mutant.
type Outcome struct {
	Mutant string `json:"mutant"`
	Bug    string `json:"bug"`
	// CaughtBy lists the cases whose verdict was FAIL or NON-STRICT.
	CaughtBy []string `json:"caughtBy"`
	// Err is set when the run could not happen.
	Err string `json:"error,omitempty"`
	// Duration of the run.
	Duration time.Duration `json:"durationNs"`
}

// Matrix is the result of running the catalogue against every mutant.
type Matrix struct {
	Profile  conformance.Profile `json:"profile"`
	Outcomes []Outcome           `json:"outcomes"`
	// Catchers maps a case ID to the mutants it catches.
	Catchers map[string][]string `json:"catchers"`
	// Idle lists the cases that catch no mutant (suspect: either the rule
	// has no mutant yet, or the case tests nothing).
	Idle []string `json:"idle"`
}

// Escaped lists the mutants no case caught.
func (m *Matrix) Escaped() []string {
	var out []string
	for _, o := range m.Outcomes {
		if len(o.CaughtBy) == 0 {
			out = append(out, o.Mutant)
		}
	}
	return out
}

// Run runs every case against each mutant, parallel runs at a time, and
// returns the catch matrix. progress (optional) is called after each mutant.
func Run(ctx context.Context, ms []Mutant, profile conformance.Profile, parallel int, progress func(Outcome)) *Matrix {
	cases := harness.Order(conformance.Catalogue(), false)
	outs := make([]Outcome, len(ms))
	sem := make(chan struct{}, max(1, parallel))
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			outs[i] = runOne(ctx, m, profile, cases)
			if progress != nil {
				mu.Lock()
				progress(outs[i])
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	mx := &Matrix{Profile: profile, Outcomes: outs, Catchers: map[string][]string{}}
	for _, o := range outs {
		for _, id := range o.CaughtBy {
			mx.Catchers[id] = append(mx.Catchers[id], o.Mutant)
		}
	}
	for _, c := range cases {
		if len(mx.Catchers[c.ID]) == 0 {
			mx.Idle = append(mx.Idle, c.ID)
		}
	}
	return mx
}

func runOne(ctx context.Context, m Mutant, profile conformance.Profile, cases []conformance.Case) Outcome {
	start := time.Now()
	o := Outcome{Mutant: m.Name, Bug: m.Bug}
	sess, err := harness.Prepare(ctx, harness.Config{Profile: profile, AZListen: "127.0.0.1:0", TargetName: "mutant:" + m.Name,
		ReferenceConfig: m.Config, WrapTarget: m.Wrap})
	if err != nil {
		o.Err = err.Error()
		return o
	}
	defer sess.Close()
	for _, c := range cases {
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		r := sess.Runner.Run(cctx, c)
		cancel()
		if r.Verdict == conformance.Fail || r.Verdict == conformance.NonStrict {
			o.CaughtBy = append(o.CaughtBy, c.ID)
		}
	}
	o.Duration = time.Since(start)
	return o
}

// WriteMarkdown renders the matrix for docs/MUTANTS.md.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Mutants: does the suite catch broken validators?\n\n")
	fmt.Fprintf(&b, "Generated by `make mutants` (then copied to docs/MUTANTS.md): the whole catalogue, profile %s, run against the\n", m.Profile)
	b.WriteString("reference target with one bug added each (package `conformance/mutants`). A mutant is caught when\n")
	b.WriteString("a case gives FAIL or NON-STRICT. The same check runs in CI (`go test ./conformance/mutants/`).\n\n")
	b.WriteString("| mutant | bug | caught by |\n|---|---|---|\n")
	for _, o := range m.Outcomes {
		caught := strings.Join(o.CaughtBy, ", ")
		if o.Err != "" {
			caught = "error: " + o.Err
		} else if caught == "" {
			caught = "**nothing — escaped**"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", o.Mutant, o.Bug, caught)
	}
	fmt.Fprintf(&b, "\n## Cases that catch no mutant (%d)\n\n", len(m.Idle))
	b.WriteString("Each is a rule no mutant breaks yet (header syntax variants, informational cases); worth a mutant\n")
	b.WriteString("before relying on the case alone.\n\n")
	if len(m.Idle) > 0 {
		b.WriteString(strings.Join(m.Idle, ", ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
