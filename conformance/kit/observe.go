package kit

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Exchange is one request to the target and what came back.
type Exchange struct {
	Step          string        `json:"step"`
	Method        string        `json:"method"`
	URL           string        `json:"url"`
	RequestHeader http.Header   `json:"requestHeader,omitempty"`
	Status        int           `json:"status,omitempty"`
	Header        http.Header   `json:"header,omitempty"`
	Body          string        `json:"body,omitempty"`
	Latency       time.Duration `json:"latencyNs"`
	Error         string        `json:"error,omitempty"`
	// TimedOut: no answer came within the bound (the target may be wedged).
	TimedOut bool `json:"timedOut,omitempty"`
	body     []byte
	// refused: nothing listened at the target's address (its process is
	// gone): counted as no answer, like a timeout.
	refused bool
}

// Brief is a one-line summary: status, challenge, latency.
func (x *Exchange) Brief() string {
	if x.Error != "" {
		return "error " + x.Error
	}
	s := fmt.Sprintf("%d", x.Status)
	if ch := x.Header.Get("WWW-Authenticate"); ch != "" {
		s += " [" + ch + "]"
	}
	return s + fmt.Sprintf(" in %s", x.Latency.Round(time.Millisecond))
}

// Observation is everything a case saw.
type Observation struct {
	// Exchanges with the target, in order.
	Exchanges []Exchange `json:"exchanges"`
	// JudgedIndex is the exchange the outcome is judged on (-1 or unset: the last).
	JudgedIndex *int `json:"judged,omitempty"`
	// Omitted counts the exchanges not kept (see MaxExchanges), between
	// the first ones and the latest.
	Omitted int `json:"omitted,omitempty"`
	// Tokens used, by role ("access", "id", ...), for the report.
	Tokens map[string]string `json:"tokens,omitempty"`
	// Want is the security context an accepted request must produce.
	Want *SecurityContext `json:"want,omitempty"`
	// NoDownstream: a rejected request must not reach the sink.
	NoDownstream bool `json:"noDownstream,omitempty"`
	// Downstream holds what the sink received during the case.
	Downstream []SinkRequest `json:"downstream,omitempty"`
	// Facts are measured values worth reporting (leeway, fetch counts, ...).
	Facts map[string]string `json:"facts,omitempty"`
	// Failures are checks of the recipe itself that failed; any makes the
	// case not match its outcomes.
	Failures []string `json:"failures,omitempty"`
}

// MaxExchanges bounds the exchanges an observation keeps: the first
// MaxExchanges/4 and the latest; the ones between are counted in Omitted
// (a flood of 1,000 requests keeps its start and its end).
const MaxExchanges = 64

// Add records an exchange and returns it.
func (o *Observation) Add(x Exchange) Exchange {
	o.Exchanges = append(o.Exchanges, x)
	if len(o.Exchanges) > MaxExchanges {
		drop := MaxExchanges / 4
		o.Exchanges = append(o.Exchanges[:drop], o.Exchanges[drop+1:]...)
		o.Omitted++
		if j := o.JudgedIndex; j != nil && *j >= drop {
			if *j == drop {
				o.JudgedIndex = nil
			} else {
				*j--
			}
		}
	}
	return x
}

// Judge marks the last added exchange as the judged one.
func (o *Observation) Judge() {
	i := len(o.Exchanges) - 1
	o.JudgedIndex = &i
}

// Judged returns the exchange the outcome is judged on.
func (o *Observation) Judged() *Exchange {
	if len(o.Exchanges) == 0 {
		return nil
	}
	if o.JudgedIndex != nil && *o.JudgedIndex >= 0 && *o.JudgedIndex < len(o.Exchanges) {
		return &o.Exchanges[*o.JudgedIndex]
	}
	return &o.Exchanges[len(o.Exchanges)-1]
}

// Failf records a failed check.
func (o *Observation) Failf(format string, args ...any) {
	o.Failures = append(o.Failures, fmt.Sprintf(format, args...))
}

// Fact records a measured fact.
func (o *Observation) Fact(k, format string, args ...any) {
	if o.Facts == nil {
		o.Facts = map[string]string{}
	}
	o.Facts[k] = fmt.Sprintf(format, args...)
}

// Token records a token used by the case.
func (o *Observation) Token(role, tok string) {
	if o.Tokens == nil {
		o.Tokens = map[string]string{}
	}
	o.Tokens[role] = tok
}

// pair records a pair's tokens (the id token when it has one) and the
// security context they imply.
func (o *Observation) pair(p Pair) {
	o.Want = p.Want
	o.Token("access", p.Access)
	if p.ID != "" {
		o.Token("id", p.ID)
	}
}

// Summary is a one-line description of what was observed.
func (o *Observation) Summary() string {
	var parts []string
	if x := o.Judged(); x != nil {
		parts = append(parts, x.Brief())
	}
	for k, v := range o.Facts {
		parts = append(parts, k+"="+v)
	}
	parts = append(parts, o.Failures...)
	return strings.Join(parts, "; ")
}

// SecurityContext is what the target's protected route returns on success.
type SecurityContext struct {
	Sub         string `json:"imf.sub"`
	User        any    `json:"imf.user"`
	Device      any    `json:"imf.device"`
	Application any    `json:"imf.application"`
}

// Equal compares two contexts as JSON values.
func (s *SecurityContext) Equal(o *SecurityContext) bool {
	norm := func(v any) any {
		b, _ := json.Marshal(v)
		var out any
		_ = json.Unmarshal(b, &out)
		return out
	}
	return s.Sub == o.Sub && reflect.DeepEqual(norm(s.User), norm(o.User)) &&
		reflect.DeepEqual(norm(s.Device), norm(o.Device)) && reflect.DeepEqual(norm(s.Application), norm(o.Application))
}

// Match reports whether the exchange is this outcome, and if not, why.
func (o Outcome) Match(x *Exchange, want *SecurityContext) (bool, string) {
	if status, code, ok := o.challenge(); ok {
		ch := x.Header.Get("WWW-Authenticate")
		bearer := strings.HasPrefix(strings.ToLower(strings.TrimSpace(ch)), "bearer")
		if x.Status == status && bearer && challengeError(ch) == code {
			return true, ""
		}
		if code == "" {
			return false, fmt.Sprintf("not %d with a bare Bearer challenge", status)
		}
		return false, fmt.Sprintf("not %d with Bearer error=%q", status, code)
	}
	switch o {
	case Observed:
		return true, ""
	case Accepted:
		if x.Status != http.StatusOK {
			return false, "not 200"
		}
		if want == nil {
			return true, ""
		}
		var got SecurityContext
		if err := json.Unmarshal(x.body, &got); err != nil {
			return false, "200 but the body is not a security context: " + err.Error()
		}
		if !got.Equal(want) {
			w, _ := json.Marshal(want)
			return false, fmt.Sprintf("200 but the security context differs: want %s", w)
		}
		return true, ""
	case BadRequest:
		if x.Status != http.StatusBadRequest {
			return false, "not 400"
		}
		return true, ""
	case FailClosed:
		switch x.Status {
		case 401, 500, 502, 503, 504:
			return true, ""
		}
		return false, "not 401/500/502/503/504"
	case Rejected:
		if x.Status >= 400 && x.Status < 500 {
			return true, ""
		}
		return false, "not 4xx"
	case NotOK:
		if x.Status >= 300 {
			return true, ""
		}
		return false, "a 2xx"
	}
	return false, "unknown outcome " + string(o)
}

// challenge returns the status and the Bearer challenge's error code ("":
// none) of the outcomes that are a status with a Bearer challenge.
func (o Outcome) challenge() (status int, code string, ok bool) {
	switch o {
	case InvalidToken:
		return http.StatusUnauthorized, "invalid_token", true
	case BareChallenge:
		return http.StatusUnauthorized, "", true
	case InvalidRequest:
		return http.StatusBadRequest, "invalid_request", true
	}
	return 0, "", false
}

// challengeError extracts error="..." from a WWW-Authenticate value.
func challengeError(ch string) string {
	i := strings.Index(ch, "error=")
	if i < 0 {
		return ""
	}
	v := ch[i+len("error="):]
	v = strings.TrimPrefix(v, `"`)
	if j := strings.IndexAny(v, `",`); j >= 0 {
		v = v[:j]
	}
	return strings.TrimSpace(v)
}

// WantContext is the security context a target must derive from an id token
// minted from spec: the id token's sub and its three objects (imf.user is {}
// for an anonymous token).
func WantContext(spec tokenfactory.ID) *SecurityContext {
	sub := spec.Subject
	if sub == "" {
		sub = tokenfactory.SubjectFor(spec.ClientID, spec.User)
	}
	var user any = map[string]any{}
	if spec.User != nil {
		u := *spec.User
		if u.Attributes == nil {
			u.Attributes = map[string]any{}
		}
		user = u
	}
	return &SecurityContext{Sub: sub, User: user, Device: spec.Device, Application: spec.Application}
}

// Outcome names one acceptable result of a case.
type Outcome string

// Outcomes.
const (
	// Accepted: 200 from the protected route with the security context the tokens imply.
	Accepted Outcome = "accept"
	// InvalidToken: 401 with WWW-Authenticate: Bearer ... error="invalid_token" (401i).
	InvalidToken Outcome = "401i"
	// BareChallenge: 401 with a Bearer challenge without an error code (401b).
	BareChallenge Outcome = "401b"
	// BadRequest: 400 (the mca profile; any challenge or none).
	BadRequest Outcome = "400"
	// InvalidRequest: 400 with WWW-Authenticate: Bearer ... error="invalid_request".
	InvalidRequest Outcome = "400ir"
	// FailClosed: the AZ could not be used: 401, 500, 502, 503 or 504 — never 200.
	FailClosed Outcome = "fail-closed"
	// Rejected: any 4xx.
	Rejected Outcome = "4xx"
	// NotOK: any status but 2xx (the target could not do what was asked, and said so).
	NotOK Outcome = "non-2xx"
	// Observed: anything is acceptable; the behaviour is recorded (informational cases).
	Observed Outcome = "observed"
)
