package bench

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/tokenfactory"
	vegeta "github.com/tsenart/vegeta/v12/lib"
	"github.com/valyala/fastjson"
)

// Kind says what a request expects.
type Kind int

// Expectation kinds.
const (
	// ExpectValid: 200 whose body is the security context with imf.sub == Sub.
	ExpectValid Kind = iota
	// ExpectRefused: a 4xx (the token is broken).
	ExpectRefused
	// ExpectPropagated: 200 from /propagate; the sink saw exactly the
	// incoming Authorization header (AuthSHA256) and no injected header.
	ExpectPropagated
	// ExpectServiceCall: 200 from /service-call; the sink saw a bearer
	// token of the service client (prn == ServiceClient), not the caller's.
	ExpectServiceCall
)

func (k Kind) String() string {
	switch k {
	case ExpectValid:
		return "valid"
	case ExpectRefused:
		return "refused"
	case ExpectPropagated:
		return "propagated"
	case ExpectServiceCall:
		return "service-call"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Expectation is what one request must get back.
type Expectation struct {
	Kind Kind
	// Label names the request's token (a pool entry or a mutation name).
	Label string
	// Sub is the expected imf.sub (ExpectValid).
	Sub string
	// AuthSHA256 is the hex SHA-256 of the Authorization header sent (ExpectPropagated).
	AuthSHA256 string
	// ServiceClient is the client id of the target's service token (ExpectServiceCall).
	ServiceClient string
	// AllowUnavailable accepts 503 as a correct, fail-closed answer (the
	// key is not available: AZ down, or too many new app ids at once).
	AllowUnavailable bool
}

// Verdict classifies one response.
type Verdict int

// Verdicts. A wrong answer is a definite, incorrect answer (a forged token
// accepted, a valid one refused, the wrong identity); an error is a failure
// to answer (transport error, timeout, 5xx that is not an allowed
// fail-closed 503).
const (
	Correct Verdict = iota
	// CorrectUnavailable: a 503 where AllowUnavailable accepts it.
	CorrectUnavailable
	Wrong
	Failed
)

func (v Verdict) String() string {
	return [...]string{"correct", "correct-503", "wrong", "error"}[v]
}

// WrongPrefix starts Result.Error of a wrong answer in the results files, so
// `vegeta report` counts it and Merge finds it again.
const WrongPrefix = "wrong answer: "

// authHash is the sink's and the checker's digest of an Authorization header.
func authHash(h string) string {
	s := sha256.Sum256([]byte(h))
	return hex.EncodeToString(s[:])
}

// checkStatus judges the answer of a no-auth ceiling (bare): a 200 is
// correct whatever the token, anything else an error (it never answers
// wrong: it claims nothing).
func checkStatus(res *vegeta.Result, e *Expectation) (Verdict, string) {
	if res.Code == http.StatusOK {
		return Correct, ""
	}
	if res.Code == 0 {
		return Failed, res.Error
	}
	return Failed, fmt.Sprintf("status %d (%s): %s", res.Code, e.Label, oneLine(res.Body))
}

// check judges res against e. validates false (a baseline) turns accepted
// broken tokens into correct answers: the target does not claim to validate.
// p parses the body of valid answers (nil: a new parser); a collector keeps
// one, since every answer of a load test is parsed.
func check(p *fastjson.Parser, res *vegeta.Result, e *Expectation, validates bool) (Verdict, string) {
	if res.Code == 0 {
		return Failed, res.Error
	}
	code := int(res.Code)
	switch {
	case code == http.StatusServiceUnavailable && e.AllowUnavailable:
		return CorrectUnavailable, ""
	case code >= 500:
		return Failed, fmt.Sprintf("status %d (%s): %s", code, e.Label, oneLine(res.Body))
	}
	if e.Kind == ExpectRefused {
		if code >= 400 && code < 500 {
			return Correct, ""
		}
		if !validates {
			return Correct, ""
		}
		return Wrong, fmt.Sprintf("broken token %s got %d, want 4xx: %s", e.Label, code, oneLine(res.Body))
	}
	if code != http.StatusOK {
		return Wrong, fmt.Sprintf("valid token %s got %d, want 200: %s", e.Label, code, oneLine(res.Body))
	}
	switch e.Kind {
	case ExpectValid:
		sub, ok := contextSub(p, res.Body)
		if !ok {
			return Wrong, fmt.Sprintf("valid token %s: body is not a security context (a JSON object with one string imf.sub): %s", e.Label, oneLine(res.Body))
		}
		if string(sub) != e.Sub {
			return Wrong, fmt.Sprintf("valid token %s: imf.sub %q, want %q", e.Label, sub, e.Sub)
		}
		return Correct, ""
	case ExpectPropagated, ExpectServiceCall:
		var out struct {
			Status int    `json:"downstream_status"`
			Body   string `json:"body"`
		}
		if err := json.Unmarshal(res.Body, &out); err != nil {
			return Wrong, fmt.Sprintf("%s %s: body is not {downstream_status, body}: %s", e.Kind, e.Label, oneLine(res.Body))
		}
		var seen sinkEcho
		if err := json.Unmarshal([]byte(out.Body), &seen); err != nil || out.Status != http.StatusOK {
			return Wrong, fmt.Sprintf("%s %s: downstream %d %s", e.Kind, e.Label, out.Status, oneLine([]byte(out.Body)))
		}
		if seen.Injected {
			return Wrong, fmt.Sprintf("%s %s: the target forwarded the client's %s header", e.Kind, e.Label, injectHeader)
		}
		if e.Kind == ExpectPropagated {
			if seen.AuthSHA256 != e.AuthSHA256 {
				return Wrong, fmt.Sprintf("propagated %s: the downstream got another Authorization header (prn %q)", e.Label, seen.Prn)
			}
			return Correct, ""
		}
		if seen.Prn != e.ServiceClient || !seen.Bearer {
			return Wrong, fmt.Sprintf("service-call %s: the downstream got a token with prn %q, want the service client %q", e.Label, seen.Prn, e.ServiceClient)
		}
		return Correct, ""
	}
	return Wrong, fmt.Sprintf("unknown expectation %v", e.Kind)
}

// contextSub returns the imf.sub of a security context: body must be one
// JSON object with exactly one "imf.sub" member, a string.
func contextSub(p *fastjson.Parser, body []byte) ([]byte, bool) {
	if p == nil {
		p = new(fastjson.Parser)
	}
	v, err := p.ParseBytes(body)
	if err != nil {
		return nil, false
	}
	o, err := v.Object()
	if err != nil {
		return nil, false
	}
	var sub []byte
	n := 0
	o.Visit(func(k []byte, v *fastjson.Value) {
		if string(k) == "imf.sub" {
			n++
			sub, err = v.StringBytes()
		}
	})
	return sub, n == 1 && err == nil
}

// oneLine is an excerpt of b with its whitespace runs folded to one space.
func oneLine(b []byte) string {
	return excerpt.String(strings.Join(strings.Fields(string(b)), " "), 200)
}

// prnOf decodes (without verifying) the prn of the first token of a bearer header.
func prnOf(h string) (string, bool) {
	f := strings.Fields(h)
	if len(f) < 2 || !strings.EqualFold(f[0], "Bearer") {
		return "", false
	}
	prn, _ := tokenfactory.Inspect(f[1]).StringClaim("prn")
	return prn, true
}
