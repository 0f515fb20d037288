package conformance

import (
	"context"

	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func idTokenCases() []Case {
	c := func(id, title string, m tf.Mutation) Case {
		return Case{ID: id, Area: "idtoken", Title: title,
			Rule: "A valid access token paired with an invalid id token MUST be refused as invalid_token: the id token is verified like the access token.",
			Refs: []string{refSeedInvalid, "OIDC Core §3.1.3.7"}, Expect: must401i, Recipe: kit.Tokens{ID: muts(m)}}
	}
	return []Case{
		c("IDT-001", "Id token signed by another key", tf.SignedBy(nil)),
		c("IDT-002", "Id token with alg none", tf.AlgNone("none", false)),
		c("IDT-003", "Id token with a bit flipped in the payload", tf.FlipBit(tf.SegPayload)),
		c("IDT-004", "Id token with HS256 keyed with the AZ public key", tf.HS256WithPublicKey(tf.KeyPKCS1PEM)),
		c("IDT-005", "Id token that is not a JWS", tf.SegmentCount(2)),
		{ID: "IDT-006", Area: "idtoken", Title: "Id token of another client", Rule: "The id token MUST belong to the access token's client (sub ends with the access token's prn) in strict; recorded in mca.",
			Refs: []string{"OIDC Core §3.1.3.7", "RFC 8725 §3.12", refSeedCtx}, Expect: split(exp(Info, kit.Observed), exp(Must, kit.InvalidToken)),
			Recipe: kit.Procedure{Doc: "access token of client A with a valid id token of client B", Fn: otherClientIDToken}},
		{ID: "IDT-007", Area: "idtoken", Title: "Access and id token swapped", Rule: "What the target does when the id token comes first is recorded.",
			Refs: []string{refSeedHeader}, Expect: same(Info, kit.Observed),
			Recipe: kit.Tokens{Format: func(a, i string) []string { return []string{"Bearer " + i + " " + a} }, FormatDoc: "Bearer <id> <access>"}},
		{ID: "IDT-008", Area: "idtoken", Title: "Security context exactly as in the id token", Rule: "imf.sub, imf.user, imf.device and imf.application MUST be the id token's, exactly, including non-ASCII text and nested attributes.",
			Refs: []string{refSeedCtx}, Expect: same(Must, kit.Accepted), Recipe: kit.Procedure{Doc: "valid pair whose id token has a non-ASCII display name and nested attributes", Fn: richContext}},
		{ID: "IDT-009", Area: "idtoken", Title: "Security context without an id token", Rule: "Without an id token, imf.sub MUST be the access token's prn and imf.user, imf.device, imf.application MUST be {}.",
			Refs: []string{refSeedCtx}, Expect: same(Must, kit.Accepted), Recipe: kit.Tokens{NoID: true}},
		{ID: "IDT-010", Area: "idtoken", Title: "No context leaks between concurrent requests", Rule: "Under concurrency every request MUST get the security context of its own tokens, never another request's.",
			Refs: []string{refSeedCtx, refProtected}, Expect: same(Must, kit.Accepted), Recipe: kit.Procedure{Doc: "24 concurrent requests, each with its own client and user", Fn: concurrentContexts}},
		{ID: "IDT-011", Area: "idtoken", Title: "Id token without exp", Rule: "An id token without exp MUST be refused in strict (OIDC Core §2: exp is REQUIRED); SHOULD in mca.",
			Refs: []string{"OIDC Core §2", refRFC9068}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{ID: muts(tf.NoExp())}},
	}
}

func otherClientIDToken(ctx context.Context, e *kit.Env) error {
	app, a, err := kit.FreshPair(ctx, e, false)
	if err != nil {
		return err
	}
	b, err := app.Mint(true, nil, nil)
	if err != nil {
		return err
	}
	e.SendPair(ctx, "access of client A + id of client B", app.ID, kit.Pair{Access: a.Access, ID: b.ID})
	return nil
}

func richContext(ctx context.Context, e *kit.Env) error {
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	client := e.ClientID()
	spec := kit.DefaultIDSpec(app.ID, client)
	spec.User.DisplayName = "Zoë Ωmega — 東京 🚀 <script>"
	spec.User.Attributes = map[string]any{"groups": []any{"admins?", "a/b"}, "address": map[string]any{"city": "Zürich", "zip": "8001"}, "score": 3.5, "active": true, "none": nil}
	acc, err := app.AccessToken(tf.Access{AppID: app.ID, ClientID: client})
	if err != nil {
		return err
	}
	id, err := app.IDToken(spec)
	if err != nil {
		return err
	}
	e.SendPair(ctx, "request", app.ID, kit.Pair{Access: acc, ID: id, Want: kit.WantContext(spec)})
	return nil
}

func concurrentContexts(ctx context.Context, e *kit.Env) error {
	const n = 24
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	pairs, xs, err := e.SendFreshPairs(ctx, app, n, func(i int) bool { return i%3 == 0 })
	if err != nil {
		return err
	}
	obs := e.Observation()
	obs.Want = pairs[n-1].Want
	bad := 0
	for i, x := range xs {
		if ok, why := kit.Accepted.Match(&xs[i], pairs[i].Want); !ok {
			bad++
			if bad <= 3 {
				obs.Failf("request %d: %s (%s)", i, x.Brief(), why)
			}
		}
	}
	if bad > 3 {
		obs.Failf("... %d of %d requests got a wrong answer", bad, n)
	}
	return nil
}
