package conformance

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func propagationCases() []Case {
	return []Case{
		{ID: "PRP-001", Area: "propagation", Title: "Propagation forwards the Authorization header byte for byte",
			Rule:   "getAuthorizationHeaderFromIncomingRequest MUST return the incoming header unchanged: the downstream call carries both tokens byte for byte.",
			Refs:   []string{refPropagate},
			Expect: same(Must, kit.Accepted),
			Recipe: propagate("valid pair through /propagate to the sink", func(p kit.Pair) string { return p.Header() })},
		{ID: "PRP-002", Area: "propagation", Title: "Propagation keeps irregular spacing",
			Rule:   "The forwarded header SHOULD be the incoming one unchanged, even with irregular spacing.",
			Refs:   []string{refPropagate},
			Expect: same(Should, kit.Accepted),
			Recipe: propagate("'Bearer  <access>   <id>' through /propagate", func(p kit.Pair) string { return "Bearer  " + p.Access + "   " + p.ID })},
		{ID: "PRP-003", Area: "propagation", Title: "No downstream call when the incoming token is invalid",
			Rule:   "A request with an invalid token MUST be refused before the handler runs: no downstream call is made.",
			Refs:   []string{refPropagate, refContract},
			Expect: must401i,
			Recipe: propagateInvalid("propagate")},
		{ID: "PRP-004", Area: "propagation", Title: "No service call when the incoming token is invalid", Needs: []Need{NeedServiceCredentials},
			Rule:   "A request with an invalid token MUST be refused before the handler runs: no service token is used and no downstream call is made.",
			Refs:   []string{refServiceCall, refContract},
			Expect: must401i,
			Recipe: propagateInvalid("service-call")},
		{ID: "PRP-005", Area: "propagation", Title: "A bad service secret gives a clear error, not a hang", Needs: []Need{NeedServiceCredentials, NeedAZControl},
			Rule:   "When the AZ refuses the target's client credentials, service-call SHOULD fail within the bound with a non-2xx answer and call nothing downstream.",
			Refs:   []string{refServiceCall, "RFC 6749 §5.2 (invalid_client)"},
			Expect: same(Should, kit.NotOK),
			Recipe: kit.Procedure{Doc: "AZ token endpoint answers 401 invalid_client for the target's app; valid pair to /service-call", Fn: badSecret}},
		{ID: "PRP-006", Families: mcaOnly, Area: "propagation", Title: "Service token from client credentials", Needs: []Need{NeedServiceCredentials},
			Rule:   "getAuthorizationHeader MUST return 'Bearer <token>' with a token the AZ issued by client credentials for the target's app (aud = app id, prn = the service client).",
			Refs:   []string{refServiceCall, refAZToken},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "valid pair to /service-call?to=<sink>; the sink's Authorization header is verified with the AZ key", Fn: serviceToken}},
		{ID: "PRP-007", Families: mcaOnly, Area: "propagation", Title: "The service token is accepted by a target", Needs: []Need{NeedServiceCredentials},
			Rule:   "A service token obtained by the target MUST be accepted by a target of the same app, with imf.sub = the service client id.",
			Refs:   []string{refServiceCall, refSeedCtx},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "the service token the sink received, sent to the target's protected route for its app", Fn: serviceTokenAccepted}},
		{ID: "PRP-008", Area: "propagation", Title: "The service token is reused until near expiry", Needs: []Need{NeedServiceCredentials},
			Rule:   "The service token SHOULD be cached until shortly before expires_in: three service calls make at most one token request.",
			Refs:   []string{refServiceCall},
			Expect: same(Should, kit.Accepted),
			Recipe: kit.Procedure{Doc: "three valid /service-call requests; fakeaz counts token requests", Fn: serviceTokenReuse}},
		{ID: "PRP-009", Area: "propagation", Title: "Client-injected identity headers are not forwarded",
			Rule:   "Identity headers a client injects (X-Imf-User, X-Imf-Sub, X-Forwarded-User) MUST NOT be passed downstream as trusted (strict); SHOULD in mca.",
			Refs:   []string{refPropagate},
			Expect: split(exp(Should, kit.Accepted), exp(Must, kit.Accepted)),
			Recipe: kit.Procedure{Doc: "valid pair plus X-Imf-User / X-Imf-Sub / X-Forwarded-User through /propagate", Fn: injectedHeaders}},
	}
}

func propagatePath(appID, route, to string) string {
	return "/v1/apps/" + appID + "/" + route + "?to=" + url.QueryEscape(to)
}

// viaSink mints a valid pair for a fresh app (its access token mutated by
// accessMuts), sends it as step to the target's route (propagate or
// service-call) with the sink as ?to= and the headers h makes for the pair,
// and returns the pair and the requests the sink received.
func viaSink(ctx context.Context, e *kit.Env, step, route string, h func(kit.Pair) http.Header, accessMuts ...tf.Mutation) (kit.Pair, []kit.SinkRequest, error) {
	app, p, err := kit.FreshPair(ctx, e, true, accessMuts...)
	if err != nil {
		return kit.Pair{}, nil, err
	}
	to := e.SinkURL()
	e.Get(ctx, step, propagatePath(app.ID, route, to), h(p))
	return p, e.Downstream(to), nil
}

// bearerOnly is the headers of a plain request with the pair: Authorization only.
func bearerOnly(p kit.Pair) http.Header { return http.Header{"Authorization": {p.Header()}} }

func propagate(doc string, header func(kit.Pair) string) kit.Recipe {
	return kit.Procedure{Doc: doc, Fn: func(ctx context.Context, e *kit.Env) error {
		p, got, err := viaSink(ctx, e, "propagate", "propagate", func(p kit.Pair) http.Header { return http.Header{"Authorization": {header(p)}} })
		if err != nil {
			return err
		}
		obs := e.Observation()
		obs.Downstream = got
		switch {
		case len(got) != 1:
			obs.Failf("the sink received %d request(s), want 1", len(got))
		case got[0].Header.Get("Authorization") != header(p):
			obs.Failf("the sink received Authorization %.80q…, not the incoming header", got[0].Header.Get("Authorization"))
		}
		return nil
	}}
}

func propagateInvalid(route string) kit.Recipe {
	return kit.Procedure{Doc: "expired access token to /" + route + "?to=<sink>", Fn: func(ctx context.Context, e *kit.Env) error {
		_, got, err := viaSink(ctx, e, route, route, bearerOnly, tf.ExpiredBy(time.Hour))
		if err != nil {
			return err
		}
		obs := e.Observation()
		obs.NoDownstream = true
		obs.Downstream = got
		return nil
	}}
}

func badSecret(ctx context.Context, e *kit.Env) error {
	if err := e.Fault(e.Kit().HomeAppID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointToken, Status: 401, Body: `{"error":"invalid_client","error_description":"bad client secret"}`}); err != nil {
		return err
	}
	_, got, err := viaSink(ctx, e, "service-call", "service-call", bearerOnly)
	if err != nil {
		return err
	}
	if len(got) > 0 {
		obs := e.Observation()
		obs.Downstream = got
		obs.Failf("the target called downstream %d time(s) without a service token", len(got))
	}
	return nil
}

// serviceCall makes one service call and returns the token the sink received.
func serviceCall(ctx context.Context, e *kit.Env, obs *kit.Observation) (string, error) {
	p, got, err := viaSink(ctx, e, "service-call", "service-call", bearerOnly)
	if err != nil {
		return "", err
	}
	obs.Downstream = append(obs.Downstream, got...)
	if len(got) != 1 {
		obs.Failf("the sink received %d request(s), want 1", len(got))
		return "", nil
	}
	h := got[0].Header.Get("Authorization")
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || strings.ContainsAny(tok, " \t") {
		obs.Failf("the service call's Authorization is %.60q, want 'Bearer <token>'", h)
		return "", nil
	}
	if tok == p.Access {
		obs.Failf("the service call forwarded the user's access token instead of a service token")
	}
	return tok, nil
}

func serviceToken(ctx context.Context, e *kit.Env) error {
	obs := e.Observation()
	tok, err := serviceCall(ctx, e, obs)
	if err != nil || tok == "" {
		return err
	}
	obs.Token("service", tok)
	pub, err := e.AZ().PublicKey(e.Kit().HomeAppID)
	if err != nil {
		return fmt.Errorf("%w: %w", kit.ErrSetup, err)
	}
	i := strings.LastIndexByte(tok, '.')
	sig, err := tf.B64.DecodeString(tok[i+1:])
	if err != nil || jwsbb.Verify(pub, tf.RS256, []byte(tok[:i]), sig) != nil {
		obs.Failf("the service token does not verify with the AZ key of app %s", e.Kit().HomeAppID)
		return nil
	}
	c, err := Claims(tok)
	if err != nil {
		return err
	}
	if c["aud"] != e.Kit().HomeAppID || (e.Kit().ServiceClientID != "" && c["prn"] != e.Kit().ServiceClientID) {
		obs.Failf("service token aud=%v prn=%v, want aud=%s prn=%s", c["aud"], c["prn"], e.Kit().HomeAppID, e.Kit().ServiceClientID)
	}
	return nil
}

func serviceTokenAccepted(ctx context.Context, e *kit.Env) error {
	obs := e.Observation()
	tok, err := serviceCall(ctx, e, obs)
	if err != nil || tok == "" {
		return err
	}
	c, err := Claims(tok)
	if err != nil {
		obs.Failf("service token unreadable: %v", err)
		return nil
	}
	sub, _ := c["prn"].(string)
	obs.Want = &kit.SecurityContext{Sub: sub, User: map[string]any{}, Device: map[string]any{}, Application: map[string]any{}}
	e.Protected(ctx, "service token to the protected route", e.Kit().HomeAppID, "Bearer "+tok)
	return nil
}

func serviceTokenReuse(ctx context.Context, e *kit.Env) error {
	obs := e.Observation()
	before := e.AZ().Stats().Count(fakeaz.EndpointToken, e.Kit().HomeAppID)
	for range 3 {
		if _, err := serviceCall(ctx, e, obs); err != nil {
			return err
		}
	}
	n := e.AZ().Stats().Count(fakeaz.EndpointToken, e.Kit().HomeAppID) - before
	obs.Fact("token requests", "%d for 3 service calls", n)
	if n > 1 {
		obs.Failf("%d token requests for 3 service calls (want at most 1)", n)
	}
	return nil
}

func injectedHeaders(ctx context.Context, e *kit.Env) error {
	_, got, err := viaSink(ctx, e, "propagate with injected headers", "propagate", func(p kit.Pair) http.Header {
		return http.Header{"Authorization": {p.Header()}, "X-Imf-User": {`{"id":"admin"}`}, "X-Imf-Sub": {"admin"}, "X-Forwarded-User": {"admin"}}
	})
	if err != nil {
		return err
	}
	obs := e.Observation()
	obs.Downstream = got
	for _, r := range got {
		for _, k := range []string{"X-Imf-User", "X-Imf-Sub", "X-Forwarded-User"} {
			if r.Header.Get(k) != "" {
				obs.Failf("the downstream call carried the client's %s: %q", k, r.Header.Get(k))
			}
		}
	}
	if len(got) == 0 {
		obs.Failf("precondition: no downstream call was made")
	}
	return nil
}
