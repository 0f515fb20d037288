// Package mutants holds deliberately broken validators — the reference
// target with one check disabled or one known bug added — and runs the
// conformance catalogue against each, to test the harness itself. Each
// mutant names the cases meant to catch it: it counts as caught only when
// one of those fails (a failure elsewhere is reported apart), a harness
// ERROR never counts, and a case that catches no mutant must say why
// (NoMutant).
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

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/harness"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/webrp"
	"github.com/mcaspec/mcaspec/targets"
)

// Mutant is one broken validator.
type Mutant struct {
	Name string
	// Bug says what is broken, in one sentence.
	Bug string
	// Intended are the cases meant to catch the mutant: case IDs or area
	// keys ("signature"). The mutant is caught only when one of them gives
	// FAIL or NON-STRICT.
	Intended []string
	// Profile the catalogue runs in against this mutant (default: the
	// matrix's profile); a rule that is a MUST only in mca needs mca.
	Profile conformance.Profile
	// Config breaks the reference validator's config (may be nil).
	Config func(*reference.Config)
	// Wrap breaks the target around the validator (may be nil).
	Wrap func(http.Handler) http.Handler
	// Server breaks the target's HTTP server (may be nil).
	Server func(*http.Server)
	// Family is the protocol family of the target (default MCA: the
	// reference target); FamilyWeb runs the web cases against the
	// reference web RP, broken by Web (and Wrap).
	Family kit.Family
	// Web breaks the reference web RP's config (may be nil).
	Web func(*webrp.Config)
}

// target is the broken reference (the reference web RP for the web family).
func (m *Mutant) target() targets.Target {
	o := targets.ReferenceOptions{Validator: m.Config, Wrap: m.Wrap, Server: m.Server, Web: m.Web}
	if m.Family.IsWeb() {
		return targets.WebReference(harness.DefaultWebTargetName, o)
	}
	return targets.Reference(harness.DefaultTargetName, o)
}

// Intends reports whether case c is one of the mutant's intended catchers.
func (m *Mutant) Intends(c conformance.Case) bool {
	for _, x := range m.Intended {
		if x == c.ID || x == c.Area {
			return true
		}
	}
	return false
}

// NoMutant says, for each case that no mutant can catch, why. The matrix
// test fails for a case that catches nothing and is not listed here.
func NoMutant() map[string]string {
	const appIDOnly = "An App ID family case (JWKS selected by kid): the reference validator implements the MCA family only (one publickey per app, kid ignored, as MCA validators must), so the matrix, which runs the MCA family, cannot run it; it judges the App ID targets (targets/ibmcloud-appid)"
	const info = "Informational in the strict profile (and in mca): the case records what the target does, has no expected outcome to miss, so no mutant can make it FAIL; what it records is in every report"
	m := map[string]string{
		"HDR-012": "Go's HTTP server answers 400 itself to a header value holding a bare CR, before any handler runs, so no mutant of the reference validator or its handler can change the outcome; the case guards targets on HTTP stacks that pass the CR through (Node's lenient parser)",
		"HDR-021": info + " (obs-fold handling belongs to the HTTP layer, RFC 9112 §5.2)",
		"TIM-006": info + " (iat in the future)",
		"TIM-007": info + "; the lax-leeway mutant changes the leeway it reports (at least 5m) and is caught by TIM-003",
		"AUD-008": info + " (an aud array holding the app id)",
		"IDT-007": info + " (tokens swapped)",
		"CCH-005": info + " (service after a flood of rejected tokens; the latency is recorded)",
		"KEY-011": info + " (key fetches for 100 unknown app ids are counted; KEY-010 holds the SHOULD, and no-negative-cache is caught there)",
		"KEY-015": appIDOnly,
		"KEY-016": appIDOnly,
	}
	for k, v := range webNoMutant() {
		m[k] = v
	}
	return m
}

// All returns every mutant, sorted by name.
func All() []Mutant {
	sw := func(name, bug string, intended []string, f func(*reference.Config)) Mutant {
		return Mutant{Name: name, Bug: bug, Intended: intended, Config: f}
	}
	ids := func(xs ...string) []string { return xs }
	ms := []Mutant{
		sw("no-exp-check", "exp is never checked", ids("time"), func(c *reference.Config) { c.InsecureSkipExpiry = true }),
		sw("exp-optional", "a token without exp is accepted", ids("TIM-004", "IDT-011"), func(c *reference.Config) { c.InsecureAllowMissingExp = true }),
		sw("no-nbf-check", "nbf is never checked", ids("TIM-005"), func(c *reference.Config) { c.InsecureSkipNotBefore = true }),
		sw("no-aud-check", "aud is never compared with the app id", ids("audience"), func(c *reference.Config) { c.InsecureSkipAudience = true }),
		sw("aud-optional", "a token without aud is accepted", ids("AUD-007"), func(c *reference.Config) { c.InsecureAllowMissingAudience = true }),
		sw("no-iss-check", "iss is never checked", ids("AUD-010", "AUD-011"), func(c *reference.Config) { c.InsecureSkipIssuer = true }),
		sw("no-id-binding", "an id token of another client is accepted", ids("IDT-006"), func(c *reference.Config) { c.InsecureSkipIDTokenBinding = true }),
		sw("id-token-ignored", "the id token is neither parsed nor verified", ids("idtoken"), func(c *reference.Config) { c.InsecureSkipIDToken = true }),
		sw("no-signature-check", "signatures are never verified", ids("signature", "IDT-001", "IDT-003"), func(c *reference.Config) { c.InsecureSkipSignature = true }),
		sw("accepts-hs256", "HS256 is verified as HMAC keyed with the public key's PEM", ids("SIG-014", "SIG-015", "SIG-016", "SIG-017", "SIG-018", "SIG-019", "SIG-020", "IDT-004"), func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"HS256"} }),
		sw("accepts-alg-none", "alg none (any spelling) skips verification", ids("SIG-006", "SIG-007", "SIG-008", "SIG-009", "SIG-010", "SIG-011", "SIG-012", "SIG-013", "IDT-002"), func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"none"} }),
		sw("accepts-rs512", "RS512 and PS256 are accepted with the AZ key", ids("SIG-022", "SIG-023"), func(c *reference.Config) { c.InsecureAcceptAlgs = []string{"RS512", "PS256"} }),
		sw("trusts-jpk", "the key embedded in the token's jpk header is trusted", ids("SIG-025"), func(c *reference.Config) { c.InsecureTrustEmbeddedKey = true }),
		sw("duplicate-keys", "JSON with duplicate claims is accepted, the last one wins", ids("STR-021", "STR-022", "STR-023", "STR-024"), func(c *reference.Config) { c.InsecureAllowDuplicateKeys = true }),
		sw("cache-ignores-app", "the context cache is not keyed by app id", ids("CCH-001", "CCH-002"), func(c *reference.Config) { c.InsecureCacheIgnoreAppID = true }),
		sw("cache-ignores-signature", "the context cache is not keyed by the signatures", ids("CCH-003", "CCH-004"), func(c *reference.Config) { c.InsecureCacheIgnoreSignature = true }),
		sw("cache-outlives-exp", "cached contexts are served past the tokens' exp", ids("TIM-008"), func(c *reference.Config) { c.InsecureCacheIgnoreExpiry = true }),
		sw("hangs-on-outage", "a key fetch may take 30 s, so an AZ that hangs hangs the target", ids("KEY-005", "KEY-006"), func(c *reference.Config) { c.FetchTimeout = 30 * time.Second }),
		sw("lax-leeway", "5 minutes of clock leeway on exp and nbf", ids("TIM-003"), func(c *reference.Config) { c.Leeway = 5 * time.Minute }),
		sw("no-negative-cache", "a failed key fetch is not remembered: every request for an unknown app fetches again", ids("KEY-010"), func(c *reference.Config) { c.NegativeTTL = time.Nanosecond }),
		{Name: "errors-as-500", Bug: "every 4xx the validator sends becomes a 500", Intended: ids("header", "structure", "signature"), Wrap: errorsAs500},
		{Name: "fails-open", Bug: "when the AZ key cannot be had (503), the request is let through with an empty context", Intended: ids("keys", "RES-004"), Wrap: failOpen},
		{Name: "service-call-forwards-user-token", Bug: "service-call forwards the user's Authorization header instead of a service token", Intended: ids("PRP-005", "PRP-006", "PRP-007", "PRP-008"), Wrap: serviceCallForwardsUserToken},
		{Name: "id-token-required", Bug: "a request with an access token alone is refused", Intended: ids("CAL-002", "IDT-009"), Wrap: idTokenRequired},
		{Name: "propagation-drops-id-token", Bug: "propagation forwards 'Bearer <access>' only", Intended: ids("PRP-001", "PRP-002"), Wrap: dropIDTokenOnPropagate},
		{Name: "propagation-unprotected", Bug: "/propagate forwards without validating the token", Intended: ids("PRP-003"), Wrap: unprotectedPropagate},
		{Name: "splits-on-single-space", Profile: conformance.MCA, Intended: ids("HDR-015"),
			Bug: "the header is split on single spaces, so 'Bearer  <access>   <id>' is refused with 400", Wrap: refuseAuthorizationWith("  ")},
		{Name: "no-tabs-in-header", Profile: conformance.MCA, Intended: ids("HDR-016"),
			Bug: "the header is split on spaces only, so tabs between the parts get 400", Wrap: refuseAuthorizationWith("\t")},
		{Name: "unbounded-headers", Intended: ids("RES-003"),
			Bug:    "request headers are unbounded (64 MiB) and a multi-megabyte token exhausts the validator: 500",
			Server: func(s *http.Server) { s.MaxHeaderBytes = 64 << 20 }, Wrap: crashOnHugeToken},
		sw("ignores-crit", "crit is ignored: a token naming an unknown extension is read as an ordinary one", ids("SIG-031"), func(c *reference.Config) { c.InsecureIgnoreHeaderParams = []string{"crit"} }),
		sw("unaware-of-rfc7797", "crit and b64 are ignored: a b64=false token's payload is base64url-decoded as usual", ids("SIG-032", "SIG-033"), func(c *reference.Config) { c.InsecureIgnoreHeaderParams = []string{"crit", "b64"} }),
		sw("ignores-zip", "a JWS carrying the JWE zip parameter is accepted", ids("SIG-034"), func(c *reference.Config) { c.InsecureIgnoreHeaderParams = []string{"zip"} }),
		sw("integer-exp", "exp is read with an integer parser; 1.7e9 or a fraction reads as no exp, and no exp passes", ids("TIM-010", "TIM-011"), func(c *reference.Config) { c.InsecureIntegerExp = true }),
		sw("accepts-huge-exp", "an exp beyond the int64 range is accepted (the token never expires)", ids("TIM-012"), func(c *reference.Config) { c.InsecureAllowHugeExp = true }),
		sw("lenient-json", "the payload parser skips a UTF-8 BOM and ignores bytes after the first object", ids("STR-031", "STR-032"), func(c *reference.Config) { c.InsecureLenientJSON = true }),
		sw("accepts-weak-keys", "any RSA key the AZ serves is used: 512-bit moduli, e = 1", ids("KEY-013", "KEY-014"), func(c *reference.Config) { c.InsecureAcceptWeakKeys = true }),
		sw("loose-app-id-pattern", "the app id is found with [0-9,a-f]{8}-… (commas allowed), so a key is fetched for ',,,,,,,,-,,,,-…'", ids("AUD-013"), func(c *reference.Config) { c.InsecureLooseAppIDPattern = true }),
		{Name: "crashes-without-app-id", Bug: "a protected path without a GUID crashes the handler: 500", Intended: ids("AUD-014"), Wrap: crashWithoutAppID},
		{Name: "unquoted-realm", Bug: `challenges are rewritten to Bearer realm=imfAuthentication (unquoted), which no real SDK recognises`, Intended: ids("HDR-022"), Wrap: unquoteRealm},
		{Name: "propagation-forwards-identity-headers", Bug: "propagation copies the client's X-Imf-* and X-Forwarded-User headers downstream", Intended: ids("PRP-009"), Wrap: forwardIdentityHeaders},
	}
	ms = append(ms, Web()...)
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	return ms
}

// crashWithoutAppID answers 500 to a request whose path holds no GUID, as
// a handler dereferencing a missing app id would.
func crashWithoutAppID(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if reference.AppIDFromPath(r.URL.Path) == "" && strings.HasPrefix(r.URL.Path, "/v1/apps/") {
			http.Error(w, "TypeError: Cannot read properties of null (reading 'toLowerCase')", http.StatusInternalServerError)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// unquoteRealm rewrites realm="imfAuthentication" to realm=imfAuthentication
// in every WWW-Authenticate value the target sends.
func unquoteRealm(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(&realmRewriter{ResponseWriter: w}, r)
	})
}

type realmRewriter struct {
	http.ResponseWriter
	wrote bool
}

func (rw *realmRewriter) WriteHeader(code int) {
	if !rw.wrote {
		rw.wrote = true
		vs := rw.Header().Values("WWW-Authenticate")
		rw.Header().Del("WWW-Authenticate")
		for _, v := range vs {
			rw.Header().Add("WWW-Authenticate", strings.ReplaceAll(v, `realm="imfAuthentication"`, `realm=imfAuthentication`))
		}
	}
	rw.ResponseWriter.WriteHeader(code)
}

func (rw *realmRewriter) Write(b []byte) (int, error) {
	if !rw.wrote {
		rw.WriteHeader(http.StatusOK)
	}
	return rw.ResponseWriter.Write(b)
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

// refuseAuthorizationWith answers 400 invalid_request to an Authorization
// header containing sep, as a validator splitting the header too strictly does.
func refuseAuthorizationWith(sep string) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.Header.Get("Authorization"), sep) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="imfAuthentication", error="invalid_request"`)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			h.ServeHTTP(w, r)
		})
	}
}

// crashOnHugeToken answers 500 to an Authorization header over 1 MiB, as a
// validator that parses any size of token and runs out of memory would.
func crashOnHugeToken(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(r.Header.Get("Authorization")) > 1<<20 {
			http.Error(w, "out of memory", http.StatusInternalServerError)
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
	Mutant  string              `json:"mutant"`
	Bug     string              `json:"bug"`
	Profile conformance.Profile `json:"profile"`
	// Intended are the cases (IDs or areas) meant to catch the mutant.
	Intended []string `json:"intended"`
	// CaughtBy lists the intended cases whose verdict was FAIL or NON-STRICT.
	CaughtBy []string `json:"caughtBy"`
	// CaughtElsewhere lists the other cases that failed.
	CaughtElsewhere []string `json:"caughtElsewhere,omitempty"`
	// Errored lists the cases the harness could not run (ERROR): they
	// never count as catching the mutant.
	Errored []string `json:"errored,omitempty"`
	// Err is set when the run could not happen.
	Err string `json:"error,omitempty"`
	// Duration of the run.
	Duration time.Duration `json:"durationNs"`
}

// Matrix is the result of running the catalogue against every mutant.
type Matrix struct {
	Profile  conformance.Profile `json:"profile"`
	Outcomes []Outcome           `json:"outcomes"`
	// Catchers maps a case ID to the mutants it catches (intended or not).
	Catchers map[string][]string `json:"catchers"`
	// Idle lists the cases that catch no mutant, and Unexplained those of
	// them NoMutant gives no reason for (suspect: the case may test nothing).
	Idle        []string `json:"idle"`
	Unexplained []string `json:"unexplained,omitempty"`
}

// Escaped lists the mutants no intended case caught (a failure elsewhere
// does not count: the case meant for the bug missed it).
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
// returns the catch matrix in the given profile (a mutant's own Profile
// wins). progress (optional) is called after each mutant.
func Run(ctx context.Context, ms []Mutant, profile conformance.Profile, parallel int, progress func(Outcome)) *Matrix {
	// Each mutant runs the cases of its family (the bearer reference
	// implements MCA, the web RP the web family; App ID cases say why in
	// NoMutant): the matrix holds the cases of the families of ms.
	var cases []conformance.Case
	seen := map[kit.Family]bool{}
	for _, m := range ms {
		if f := m.Family; !seen[f] {
			seen[f] = true
			cases = append(cases, harness.Cases(harness.Config{Family: f})...)
		}
	}
	outs := make([]Outcome, len(ms))
	var g errgroup.Group
	g.SetLimit(max(1, parallel))
	var mu sync.Mutex
	for i, m := range ms {
		g.Go(func() error {
			p := m.Profile
			if p == "" {
				p = profile
			}
			outs[i] = runOne(ctx, m, p, cases)
			if progress != nil {
				mu.Lock()
				progress(outs[i])
				mu.Unlock()
			}
			return nil
		})
	}
	_ = g.Wait()
	mx := &Matrix{Profile: profile, Outcomes: outs, Catchers: map[string][]string{}}
	for _, o := range outs {
		for _, id := range append(append([]string(nil), o.CaughtBy...), o.CaughtElsewhere...) {
			mx.Catchers[id] = append(mx.Catchers[id], o.Mutant)
		}
	}
	why := NoMutant()
	for _, c := range cases {
		if len(mx.Catchers[c.ID]) == 0 {
			mx.Idle = append(mx.Idle, c.ID)
			if why[c.ID] == "" {
				mx.Unexplained = append(mx.Unexplained, c.ID)
			}
		}
	}
	return mx
}

func runOne(ctx context.Context, m Mutant, profile conformance.Profile, cases []conformance.Case) Outcome {
	start := time.Now()
	o := Outcome{Mutant: m.Name, Bug: m.Bug, Profile: profile, Intended: m.Intended}
	sess, err := harness.Prepare(ctx, harness.Config{Profile: profile, AZListen: "127.0.0.1:0", TargetName: "mutant:" + m.Name,
		Family: m.Family, Target: m.target()})
	if err != nil {
		o.Err = err.Error()
		return o
	}
	defer sess.Close()
	for _, c := range cases {
		if !c.AppliesTo(m.Family) {
			continue
		}
		cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		r := sess.Run(cctx, c)
		cancel()
		switch {
		case r.Verdict == conformance.Errored:
			o.Errored = append(o.Errored, c.ID)
		case r.Verdict != conformance.Fail && r.Verdict != conformance.NonStrict:
		case m.Intends(c):
			o.CaughtBy = append(o.CaughtBy, c.ID)
		default:
			o.CaughtElsewhere = append(o.CaughtElsewhere, c.ID)
		}
	}
	o.Duration = time.Since(start)
	return o
}

// WriteMarkdown renders the matrix for docs/MUTANTS.md.
func (m *Matrix) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Mutants: does the suite catch broken validators?\n\n")
	fmt.Fprintf(&b, "Generated by `make mutants` (then copied to docs/MUTANTS.md): the whole catalogue of the MCA family, profile %s unless a mutant\n", m.Profile)
	b.WriteString("says otherwise, run against the reference target with one bug added each (package `conformance/mutants`).\n")
	b.WriteString("Each mutant names the cases meant to catch it (case IDs or areas). It is caught when one of them\n")
	b.WriteString("gives FAIL or NON-STRICT; failures of other cases are listed apart and do not count, and a harness\n")
	b.WriteString("ERROR never counts. The same check runs in CI (`go test ./conformance/mutants/`).\n\n")
	b.WriteString("| mutant | profile | bug | meant to be caught by | caught by the intended case | caught elsewhere |\n|---|---|---|---|---|---|\n")
	for _, o := range m.Outcomes {
		caught := strings.Join(o.CaughtBy, ", ")
		switch {
		case o.Err != "":
			caught = "error: " + o.Err
		case caught == "":
			caught = "**nothing — escaped**"
		}
		if len(o.Errored) > 0 {
			caught += fmt.Sprintf(" (harness ERROR in %s)", strings.Join(o.Errored, ", "))
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n", o.Mutant, o.Profile, o.Bug, strings.Join(o.Intended, ", "), caught, strings.Join(o.CaughtElsewhere, ", "))
	}
	var other []string
	for _, c := range conformance.Catalogue() {
		if !c.AppliesTo(kit.FamilyMCA) {
			other = append(other, c.ID)
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\n## Cases of the App ID family, not run by the matrix (%d)\n\n", len(other))
		for _, id := range other {
			fmt.Fprintf(&b, "- %s: %s.\n", id, NoMutant()[id])
		}
	}
	fmt.Fprintf(&b, "\n## Cases that catch no mutant (%d)\n\n", len(m.Idle))
	b.WriteString("A case that catches no mutant is suspect; each of these says why no mutant can exist for it.\n\n")
	why := NoMutant()
	for _, id := range m.Idle {
		r := why[id]
		if r == "" {
			r = "**no reason given: add a mutant or a reason (NoMutant)**"
		}
		fmt.Fprintf(&b, "- %s: %s.\n", id, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
