package conformance_test

import (
	"net/http"
	"testing"

	"github.com/mcaspec/mcaspec/conformance"
)

// The outcomes that are a status with a Bearer challenge accept exactly that
// status, scheme and error code, and say what they wanted when they refuse
// (the reasons reports print).
func TestChallengeOutcomes(t *testing.T) {
	t.Parallel()
	ex := func(status int, challenge string) *conformance.Exchange {
		x := &conformance.Exchange{Status: status, Header: http.Header{}}
		if challenge != "" {
			x.Header.Set("WWW-Authenticate", challenge)
		}
		return x
	}
	const (
		notInvalidToken   = `not 401 with Bearer error="invalid_token"`
		notBare           = "not 401 with a bare Bearer challenge"
		notInvalidRequest = `not 400 with Bearer error="invalid_request"`
	)
	for _, tc := range []struct {
		o    conformance.Outcome
		x    *conformance.Exchange
		want string // "" when it matches
	}{
		{conformance.InvalidToken, ex(401, `Bearer realm="x", error="invalid_token"`), ""},
		{conformance.InvalidToken, ex(401, `bearer error="invalid_token"`), ""},
		{conformance.InvalidToken, ex(401, `Basic error="invalid_token"`), notInvalidToken},
		{conformance.InvalidToken, ex(401, `Bearer`), notInvalidToken},
		{conformance.InvalidToken, ex(400, `Bearer error="invalid_token"`), notInvalidToken},
		{conformance.BareChallenge, ex(401, `Bearer realm="x"`), ""},
		{conformance.BareChallenge, ex(401, `Bearer error="invalid_token"`), notBare},
		{conformance.BareChallenge, ex(401, ""), notBare},
		{conformance.BareChallenge, ex(200, `Bearer`), notBare},
		{conformance.InvalidRequest, ex(400, `Bearer error="invalid_request"`), ""},
		{conformance.InvalidRequest, ex(400, ""), notInvalidRequest},
		{conformance.InvalidRequest, ex(401, `Bearer error="invalid_request"`), notInvalidRequest},
		{conformance.BadRequest, ex(400, ""), ""},
		{conformance.BadRequest, ex(401, `Bearer`), "not 400"},
	} {
		ok, why := tc.o.Match(tc.x, nil)
		if ok != (tc.want == "") || why != tc.want {
			t.Errorf("%s on %d %q: got (%v, %q), want (%v, %q)", tc.o, tc.x.Status, tc.x.Header.Get("WWW-Authenticate"), ok, why, tc.want == "", tc.want)
		}
	}
}
