package reports

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Fixtures: hand-built results with realistic observations. Keys are fixed
// (testdata/*.pem) and the clock is fixed, so tokens, and therefore the
// golden files, are the same on every run.

const (
	fixAppID  = "7c1f5a4e-0b6d-4e8a-9a53-1d2f3e4a5b6c"
	fixIssuer = "http://127.0.0.1:41000/imf-authserver"
	fixTarget = "http://127.0.0.1:41001"
)

var fixNow = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

var loadKeys = sync.OnceValues(func() ([2]*rsa.PrivateKey, error) {
	var ks [2]*rsa.PrivateKey
	for i, name := range []string{"az-key.pem", "attacker-key.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			return ks, err
		}
		blk, _ := pem.Decode(b)
		if ks[i], err = x509.ParsePKCS1PrivateKey(blk.Bytes); err != nil {
			return ks, err
		}
	}
	return ks, nil
})

// fixture mints tokens and builds results.
type fixture struct {
	t        testing.TB
	f        *tokenfactory.Factory
	attacker *rsa.PrivateKey
	seq      int
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ks, err := loadKeys()
	if err != nil {
		t.Fatalf("load fixture keys: %v", err)
	}
	f, err := tokenfactory.New(ks[0], tokenfactory.WithIssuer(fixIssuer),
		tokenfactory.WithClock(func() time.Time { return fixNow }), tokenfactory.WithRand(bytes.NewReader(make([]byte, 1<<16))))
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{t: t, f: f, attacker: ks[1]}
}

type pair struct {
	access, id string
	want       *kit.SecurityContext
}

func (p pair) header() string {
	if p.id == "" {
		return "Bearer " + p.access
	}
	return "Bearer " + p.access + " " + p.id
}

// mint makes a pair for a fresh client; withID adds an id token.
func (fx *fixture) mint(withID bool, accessMuts, idMuts []tokenfactory.Mutation) pair {
	fx.t.Helper()
	fx.seq++
	client := "conformance-client-" + string(rune('a'+fx.seq))
	acc, err := fx.f.AccessToken(tokenfactory.Access{AppID: fixAppID, ClientID: client}, accessMuts...)
	if err != nil {
		fx.t.Fatal(err)
	}
	p := pair{access: acc}
	if !withID {
		return p
	}
	spec := kit.DefaultIDSpec(fixAppID, client)
	if p.id, err = fx.f.IDToken(spec, idMuts...); err != nil {
		fx.t.Fatal(err)
	}
	p.want = kit.WantContext(spec)
	return p
}

// protected is an exchange with the protected route.
func protected(step, auth string, status int, challenge, body string, latency time.Duration) kit.Exchange {
	x := kit.Exchange{Step: step, Method: http.MethodGet, URL: fixTarget + "/v1/apps/" + fixAppID + "/protected",
		RequestHeader: http.Header{}, Status: status, Header: http.Header{}, Body: body, Latency: latency}
	if auth != "" {
		x.RequestHeader["Authorization"] = []string{auth}
	}
	if challenge != "" {
		x.Header.Set("WWW-Authenticate", challenge)
	}
	if body != "" {
		x.Header.Set("Content-Type", "application/json")
	}
	return x
}

const (
	chBare    = `Bearer realm="imfAuthentication"`
	chInvalid = `Bearer realm="imfAuthentication", error="invalid_token"`
	chReq     = `Bearer realm="imfAuthentication", error="invalid_request"`
	bodyInv   = `{"error":"invalid_token","error_description":"The access token is invalid"}`
)

func obsOf(p pair, xs ...kit.Exchange) *kit.Observation {
	o := &kit.Observation{Want: p.want}
	if p.access != "" {
		o.Token("access", p.access)
	}
	if p.id != "" {
		o.Token("id", p.id)
	}
	for _, x := range xs {
		o.Add(x)
	}
	return o
}

func result(id, area, title, rule string, level conformance.Level, profile conformance.Profile, expected []kit.Outcome, recipe string, v conformance.Verdict, reason string, o *kit.Observation, d time.Duration) conformance.Result {
	return conformance.Result{ID: id, Area: area, Title: title, Rule: rule,
		Refs:    []string{"seed README (bms-mca-token-validation-strategy 2.0.11)", "RFC 6750 §3.1 (error codes)"},
		Profile: profile, Level: level, Expected: expected, Recipe: recipe, Verdict: v, Reason: reason,
		Observed: o, Duration: conformance.Duration(d)}
}

func outs(os ...kit.Outcome) []kit.Outcome { return os }

// fixtureResults builds a run of about a dozen cases against a target
// whose behaviour is given by variant: "reference" passes nearly
// everything, "npm" has the seed strategy's known failures, "strict" is the
// reference under the strict profile.
func (fx *fixture) fixtureResults(variant string) []conformance.Result {
	fx.t.Helper()
	prof := conformance.MCA
	if variant == "strict" {
		prof = conformance.Strict
	}
	ms := time.Millisecond
	var rs []conformance.Result

	// CAL-001: accepted with the security context.
	p := fx.mint(true, nil, nil)
	ctx, _ := json.Marshal(p.want)
	rs = append(rs, result("CAL-001", "calibration", "A valid access and id token pair is accepted",
		"A valid RS256 access token with its id token, for the app in the URL, MUST be accepted with the security context of the id token.",
		conformance.Must, prof, outs(kit.Accepted), "access token (valid); id token (valid); header: Bearer <access> <id>",
		conformance.Pass, "", obsOf(p, protected("request", p.header(), 200, "", string(ctx), 4210*time.Microsecond)), 9*ms))

	// CAL-003: garbage refused.
	g := pair{access: "garbage-not-a-token"}
	rs = append(rs, result("CAL-003", "calibration", "A garbage token is refused",
		"A token that is not a JWS at all MUST be refused with a 4xx.", conformance.Must, prof, outs(kit.Rejected),
		"access token (valid); id token (valid); header: Bearer garbage-not-a-token", conformance.Pass, "",
		obsOf(g, protected("request", "Bearer garbage-not-a-token", 401, chInvalid, bodyInv, 850*time.Microsecond)), 2*ms))

	// HDR-001: Basic scheme; SHOULD get a bare challenge (strict) — npm answers 400.
	p = fx.mint(false, nil, nil)
	hdrExp, hdrLevel := outs(kit.BadRequest), conformance.Should
	if prof == conformance.Strict {
		hdrExp = outs(kit.BareChallenge)
	}
	v, reason, x := conformance.Pass, "", protected("request", "Basic "+p.access, 400, chReq, `{"error":"invalid_request"}`, 1100*time.Microsecond)
	if prof == conformance.Strict {
		v, reason = conformance.NonStrict, `request: got 400 [`+chReq+`] in 1ms; expected 401b (not 401 with a bare Bearer challenge)`
	}
	rs = append(rs, result("HDR-001", "header", "Basic scheme is not Bearer",
		"An Authorization header with the Basic scheme carries no bearer token: it SHOULD get a bare Bearer challenge (RFC 6750 §3.1); the seed strategy answers 400.",
		hdrLevel, prof, hdrExp, "access token (valid); no id token; header: Basic <access>", v, reason, obsOf(p, x), 3*ms))

	// HDR-004: three parts in the header -> 400; npm crashes with 500.
	p = fx.mint(true, nil, nil)
	auth := p.header() + " extra"
	v, reason, x = conformance.Pass, "", protected("request", auth, 400, chReq, `{"error":"invalid_request","error_description":"malformed Authorization header"}`, 1300*time.Microsecond)
	if variant == "npm" {
		x = protected("request", auth, 500, "", "<!DOCTYPE html>\n<html><body><pre>TypeError: Cannot read properties of undefined (reading 'split')<br> &nbsp; &nbsp;at Strategy.authenticate</pre></body></html>", 2900*time.Microsecond)
		x.Header["Content-Type"] = []string{"text/html; charset=utf-8"}
		v, reason = conformance.Fail, "request: got 500 in 3ms; expected 400 or 400ir (not 400; not 400 with Bearer error=\"invalid_request\")"
	}
	rs = append(rs, result("HDR-004", "header", "Three parts after Bearer",
		"A Bearer header that does not match 'Bearer <b64token> [<b64token>]' MUST be refused with 400 (strict: error=\"invalid_request\"), never a 5xx.",
		conformance.Must, prof, outs(kit.BadRequest, kit.InvalidRequest), "access token (valid); id token (valid); header: Bearer <access> <id> extra",
		v, reason, obsOf(p, x), 5*ms))

	// SIG-004: alg none; npm accepts it (FAIL).
	p = fx.mint(true, []tokenfactory.Mutation{tokenfactory.AlgNone("none", false)}, nil)
	v, reason, x = conformance.Pass, "", protected("request", p.header(), 401, chInvalid, bodyInv, 1700*time.Microsecond)
	if variant == "npm" {
		ctx, _ := json.Marshal(p.want)
		x = protected("request", p.header(), 200, "", string(ctx), 1500*time.Microsecond)
		v, reason = conformance.Fail, `request: got 200 in 2ms; expected 401i (not 401 with Bearer error="invalid_token")`
	}
	rs = append(rs, result("SIG-004", "signature", `alg "none" with an empty signature`,
		"A token whose header says alg none MUST be refused; only RS256 is issued (RFC 8725 §2.1).",
		conformance.Must, prof, outs(kit.InvalidToken), "access token mutated by alg-none/none/empty-sig; id token (valid); header: Bearer <access> <id>",
		v, reason, obsOf(p, x), 4*ms))

	// SIG-007: one flipped signature bit (not in the npm run: the case is missing there).
	if variant != "npm" {
		p = fx.mint(true, []tokenfactory.Mutation{tokenfactory.FlipBit(tokenfactory.SegSignature)}, nil)
		rs = append(rs, result("SIG-007", "signature", "Signature with one bit flipped",
			"A token whose signature does not verify MUST be refused with invalid_token.",
			conformance.Must, prof, outs(kit.InvalidToken), "access token mutated by flip-bit/signature; id token (valid); header: Bearer <access> <id>",
			conformance.Pass, "", obsOf(p, protected("request", p.header(), 401, chInvalid, bodyInv, 1900*time.Microsecond)), 4*ms))
	}

	// TIM-003: leeway, informational with facts.
	p = fx.mint(false, []tokenfactory.Mutation{tokenfactory.ExpiredBy(30 * time.Second)}, nil)
	o := obsOf(p, protected("expired by 30s", p.header(), 200, "", `{"imf.sub":"conformance-client-x","imf.user":{},"imf.device":{},"imf.application":{}}`, 2*ms))
	o.Judge()
	o.Add(protected("expired by 5m", p.header(), 401, chInvalid, bodyInv, 2*ms))
	o.Fact("leeway", "between 30s and 5m")
	o.Fact("probes", "2")
	rs = append(rs, result("TIM-003", "time", "Clock-skew leeway on exp",
		"The leeway a validator allows after exp is recorded (informational).",
		conformance.Info, prof, outs(kit.Observed), "access token expired by 30s, then by 5m; no id token",
		conformance.Informational, "observed: 200 in 2ms; leeway=between 30s and 5m; probes=2", o, 11*ms))

	// AUD-002: wrong aud; broken token part decoding (access token with a non-JSON payload).
	p = fx.mint(true, []tokenfactory.Mutation{tokenfactory.NotJSONObject(tokenfactory.SegPayload, tokenfactory.JSONGarbage)}, nil)
	rs = append(rs, result("AUD-002", "audience", "Payload is not JSON",
		"A token whose payload is not a JSON object MUST be refused with invalid_token.",
		conformance.Must, prof, outs(kit.InvalidToken), "access token mutated by not-json/payload/garbage; id token (valid)",
		conformance.Pass, "", obsOf(p, protected("request", p.header(), 401, chInvalid, bodyInv, 1*ms)), 3*ms))

	// KEY-002: public key fetch counts; npm fetches on every request (NON-STRICT) in mca.
	p = fx.mint(true, nil, nil)
	o = obsOf(p)
	for i := 0; i < 3; i++ {
		o.Add(protected("request "+string(rune('1'+i)), p.header(), 200, "", "{}", time.Duration(3+i)*ms))
	}
	if variant == "npm" {
		o.Fact("publickeyFetches", "3")
		v, reason = conformance.NonStrict, "the public key was fetched 3 times for 3 requests (SHOULD be cached)"
	} else {
		o.Fact("publickeyFetches", "1")
		v, reason = conformance.Pass, ""
	}
	rs = append(rs, result("KEY-002", "keys", "The public key is cached",
		"The AZ public key SHOULD be fetched once and cached, not on every request.",
		conformance.Should, prof, outs(kit.Accepted), "three valid requests; count publickey fetches at the AZ",
		v, reason, o, 14*ms))

	// PRP-001: propagation, downstream recorded.
	p = fx.mint(true, nil, nil)
	o = obsOf(p, kit.Exchange{Step: "propagate", Method: http.MethodGet, URL: fixTarget + "/v1/apps/" + fixAppID + "/propagate?to=http%3A%2F%2F127.0.0.1%3A41002%2Fcase%2FPRP-001%2F7",
		RequestHeader: http.Header{"Authorization": {p.header()}}, Status: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: `{"status":200}`, Latency: 6 * ms})
	o.Downstream = []kit.SinkRequest{{Method: http.MethodGet, Path: "/case/PRP-001/7",
		Header: http.Header{"Authorization": {p.header()}, "User-Agent": {"node-fetch"}}, At: fixNow.Add(120 * ms)}}
	rs = append(rs, result("PRP-001", "propagation", "Incoming Authorization header is propagated unchanged",
		"getAuthorizationHeaderFromIncomingRequest MUST return the incoming header byte for byte.",
		conformance.Must, prof, outs(kit.Accepted), "valid pair; target calls the sink with the incoming header",
		conformance.Pass, "", o, 8*ms))

	// PRP-004: skipped (no service credentials).
	rs = append(rs, result("PRP-004", "propagation", "Service token is obtained with client credentials",
		"getAuthorizationHeader MUST obtain a service token from the AZ token endpoint with the configured client id and secret.",
		conformance.Must, prof, outs(kit.Accepted), "target calls the sink with a service token",
		conformance.Skipped, "the target has no service credentials (MCA_CLIENT_ID / MCA_SECRET)", nil, 0))

	// RES-002: AZ hangs; target never answers within the bound (npm), or fails closed.
	p = fx.mint(true, nil, nil)
	x = protected("request while the AZ hangs", p.header(), 503, "", `{"error":"temporarily_unavailable"}`, 5012*ms)
	v, reason = conformance.Pass, ""
	if variant == "npm" {
		x = protected("request while the AZ hangs", p.header(), 0, "", "", 7*time.Second)
		x.Header, x.Error = nil, `Get "`+x.URL+`": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`
		v, reason = conformance.Fail, "request while the AZ hangs: no response: "+x.Error
	}
	rs = append(rs, result("RES-002", "resilience", "The AZ public key endpoint hangs",
		"When the AZ does not answer, the target MUST fail closed (401/5xx) within the response bound, never accept.",
		conformance.Must, prof, outs(kit.FailClosed), "fresh app; AZ publickey endpoint hangs; valid pair",
		v, reason, obsOf(p, x), 7012*ms))

	// KEY-005: the harness could not register the case's app (ERROR, npm run only).
	if variant == "npm" {
		rs = append(rs, result("KEY-005", "keys", "AZ key endpoint hangs",
			"When the AZ's key endpoint fails (hangs) the target MUST fail closed — 401, 500 or 503, never 200 — within a bounded time.",
			conformance.Must, prof, outs(kit.FailClosed), "fresh app whose publickey endpoint hangs; one valid pair",
			conformance.Errored, "harness error (not a verdict on the target): harness setup: add app: fakeaz: generating a signing key: entropy source failed", &kit.Observation{}, 1*ms))
	}
	return rs
}

// fixtureReport wraps fixtureResults in a RunReport.
func (fx *fixture) fixtureReport(variant string) *conformance.RunReport {
	rs := fx.fixtureResults(variant)
	r := &conformance.RunReport{Version: conformance.ReportVersion, Tool: "mcaspec", Profile: conformance.MCA, KeysDir: "az-keys",
		Target:    conformance.TargetInfo{Name: "reference", URL: fixTarget, Mode: "cmd", Command: "mcaspec reference --addr 127.0.0.1:41001", Family: kit.FamilyMCA},
		StartedAt: fixNow, Summary: conformance.Summarize(rs), Results: rs}
	var total time.Duration
	for _, x := range rs {
		total += time.Duration(x.Duration)
	}
	r.Duration = conformance.Duration(total + 250*time.Millisecond)
	switch variant {
	case "npm":
		r.Target.Name, r.Target.Mode, r.Target.Command = "bms-mca-token-validation-strategy", "image", ""
		r.Target.Image = "mcaspec/target-npm:2.0.11"
		r.Target.Versions = map[string]string{"bms-mca-token-validation-strategy": "2.0.11", "node": "v20.11.1", "passport": "0.7.0"}
		r.Target.Log = "listening on 127.0.0.1:41001\nTypeError: Cannot read properties of undefined (reading 'split')\n    at Strategy.authenticate (/app/node_modules/bms-mca-token-validation-strategy/lib/strategy.js:88:41)\n"
		r.Baseline = &conformance.BaselineOutcome{File: "baselines/npm.json", Expected: []string{"SIG-004"}, New: []string{"HDR-004", "RES-002"}}
		r.Events = []conformance.TargetEvent{{After: "RES-002", What: "the target stopped answering (3 requests in a row timed out, probes included); restarted"}}
	case "strict":
		r.Profile = conformance.Strict
	}
	return r
}
