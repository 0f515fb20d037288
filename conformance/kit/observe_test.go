package kit_test

import (
	"net/http"
	"testing"

	"github.com/mcaspec/mcaspec/conformance/kit"
)

// The outcomes that are a status with a Bearer challenge accept exactly that
// status, scheme and error code, and say what they wanted when they refuse
// (the reasons reports print).
func TestChallengeOutcomes(t *testing.T) {
	t.Parallel()
	ex := func(status int, challenge string) *kit.Exchange {
		x := &kit.Exchange{Status: status, Header: http.Header{}}
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
		o    kit.Outcome
		x    *kit.Exchange
		want string // "" when it matches
	}{
		{kit.InvalidToken, ex(401, `Bearer realm="x", error="invalid_token"`), ""},
		{kit.InvalidToken, ex(401, `bearer error="invalid_token"`), ""},
		{kit.InvalidToken, ex(401, `Basic error="invalid_token"`), notInvalidToken},
		{kit.InvalidToken, ex(401, `Bearer`), notInvalidToken},
		{kit.InvalidToken, ex(400, `Bearer error="invalid_token"`), notInvalidToken},
		{kit.BareChallenge, ex(401, `Bearer realm="x"`), ""},
		{kit.BareChallenge, ex(401, `Bearer error="invalid_token"`), notBare},
		{kit.BareChallenge, ex(401, ""), notBare},
		{kit.BareChallenge, ex(200, `Bearer`), notBare},
		{kit.InvalidRequest, ex(400, `Bearer error="invalid_request"`), ""},
		{kit.InvalidRequest, ex(400, ""), notInvalidRequest},
		{kit.InvalidRequest, ex(401, `Bearer error="invalid_request"`), notInvalidRequest},
		{kit.BadRequest, ex(400, ""), ""},
		{kit.BadRequest, ex(401, `Bearer`), "not 400"},
	} {
		ok, why := tc.o.Match(tc.x, nil)
		if ok != (tc.want == "") || why != tc.want {
			t.Errorf("%s on %d %q: got (%v, %q), want (%v, %q)", tc.o, tc.x.Status, tc.x.Header.Get("WWW-Authenticate"), ok, why, tc.want == "", tc.want)
		}
	}
}
