package conformance

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

// keyOutageCase is a case whose app's key endpoint fails as f says (doc
// tells how): the target must fail closed.
func keyOutageCase(id, title, doc string, f fakeaz.FaultSpec) Case {
	return Case{ID: id, Area: "keys", Title: title, Needs: []Need{NeedFreshApp, NeedAZControl},
		Rule:   "When the AZ's key endpoint fails (" + doc + ") the target MUST fail closed — 401, 500 or 503, never 200 — within a bounded time.",
		Refs:   []string{refAZKey, refContract, refUnavailable},
		Expect: same(Must, kit.FailClosed),
		Recipe: kit.Procedure{Doc: "fresh app whose publickey endpoint " + doc + "; one valid pair", Fn: func(ctx context.Context, e *kit.Env) error {
			app, err := faultedApp(ctx, e, f)
			if err != nil {
				return err
			}
			p, err := app.Mint(true, nil, nil)
			if err != nil {
				return err
			}
			e.Protected(ctx, "valid pair during outage", app.ID, p.Header())
			return nil
		}}}
}

// keyCases is the catalogue's keys area, in ID order.
func keyCases() []Case {
	return append(keyFetchCases(), keyTrustCases()...)
}

// keyFetchCases are the keys cases on how the target fetches an app's key
// and what it does while the key endpoint fails and once it recovers.
func keyFetchCases() []Case {
	return []Case{
		{ID: "KEY-001", Area: "keys", Title: "The key is fetched from the app's publickey endpoint", Needs: []Need{NeedFreshApp},
			Rule:   "The target MUST get the verification key from {serverUrl}/authorization/v1/apps/{appId}/publickey for the app in question.",
			Refs:   []string{refSeedKey, refAZKey},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "valid pair for a fresh app; fakeaz counts key fetches per app", Fn: func(ctx context.Context, e *kit.Env) error {
				app, p, err := kit.FreshPair(ctx, e, true)
				if err != nil {
					return err
				}
				before := e.AZ().Stats()
				obs := e.Observation()
				obs.Want = p.Want
				e.Protected(ctx, "valid pair", app.ID, p.Header())
				after := e.AZ().Stats()
				mine := keyFetches(after, app.ID) - keyFetches(before, app.ID)
				others := keyFetches(after, "") - keyFetches(before, "") - mine
				obs.Fact("key fetches", "%d for the app, %d for other apps", mine, others)
				if mine == 0 {
					obs.Failf("the target never fetched the key of app %s", app.ID)
				}
				if others > 0 {
					obs.Failf("the target fetched %d key(s) of other apps", others)
				}
				return nil
			}}},
		keyOutageCase("KEY-002", "AZ key endpoint answers 500", "answers 500", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500, Body: `{"error":"server_error"}`}),
		keyOutageCase("KEY-003", "AZ key endpoint answers garbage JSON", "answers 200 with garbage", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 200, Body: `{"kty":"RSA","n":"%%%not-base64","e":`}),
		keyOutageCase("KEY-004", "AZ key endpoint answers an empty body", "answers 200 with an empty body", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 200}),
		keyOutageCase("KEY-005", "AZ key endpoint hangs", "hangs", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Hang: true}),
		{ID: "KEY-006", Area: "keys", Title: "Concurrent requests while the key endpoint hangs", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "While the key endpoint hangs, concurrent requests MUST all be answered within the bound, none with 200.",
			Refs:   []string{refContract, refHygiene},
			Expect: same(Must, kit.FailClosed),
			Recipe: kit.Procedure{Doc: "16 concurrent valid pairs for a fresh app whose publickey endpoint hangs", Fn: concurrentDuringHang}},
		{ID: "KEY-007", Area: "keys", Title: "Recovery once the AZ recovers", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "After a key-endpoint outage ends, valid tokens MUST be accepted again within 10 s.",
			Refs:   []string{refSeedKey, refContract},
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "publickey answers 500 for one request, then recovers; valid pairs every 250 ms for up to 10 s", Fn: recovery}},
	}
}

// keyTrustCases are the keys cases on which keys the target trusts: rotated
// and retired keys, unknown and foreign app ids, weak keys and odd kids.
func keyTrustCases() []Case {
	return []Case{
		{ID: "KEY-008", Area: "keys", Title: "Tokens signed by a rotated key are accepted", Needs: []Need{NeedAZControl},
			Rule:   "After the AZ rotates an app's key, tokens signed by the new key SHOULD be accepted within 15 s (refetch on signature failure, rate-limited).",
			Refs:   []string{refKeyRotation, refSeedKey},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.Accepted)),
			Recipe: kit.Procedure{Doc: "valid pair accepted (key cached), key rotated at the AZ, new-key pairs every 250 ms for up to 15 s", Fn: rotation}},
		{ID: "KEY-009", Area: "keys", Title: "Tokens signed by a retired key are refused", Needs: []Need{NeedAZControl},
			Rule:   "Once the target uses the new key, a never-seen token signed by the retired key MUST be refused as invalid_token.",
			Refs:   []string{refKeyRotation, refRFC8725s33},
			Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)),
			Recipe: kit.Procedure{Doc: "rotate and retire the old key; once a new-key token is accepted, send a fresh old-key token", Fn: retiredKey}},
		{ID: "KEY-010", Area: "keys", Title: "Repeated tokens for an unknown app id", Needs: []Need{NeedFreshApp, NeedDisruptive},
			Rule:   "20 requests for one app id the AZ does not know SHOULD NOT cause more than 5 key fetches (negative caching), and none may be accepted.",
			Refs:   []string{refSeedCache, refKeyRotation, refHygiene},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.InvalidToken, kit.FailClosed)),
			Recipe: kit.Procedure{Doc: "20 tokens signed by an attacker for one unregistered app id; fakeaz counts key fetches", Fn: unknownAppFlood(1, 20, 5)}},
		{ID: "KEY-011", Area: "keys", Title: "Tokens for 100 distinct unknown app ids", Needs: []Need{NeedFreshApp, NeedDisruptive},
			Rule:   "Tokens for 100 app ids the AZ does not know: the number of key fetches is recorded (a bounded validator rate-limits them).",
			Refs:   []string{refSeedCache, refHygiene},
			Expect: same(Info, kit.Observed),
			Recipe: kit.Procedure{Doc: "100 tokens signed by an attacker, each for a different unregistered app id", Fn: unknownAppFlood(100, 100, 0)}},
		{ID: "KEY-012", Area: "keys", Title: "A token signed with app A's key presented for app B", Needs: []Need{NeedSecondApp},
			Rule:   "Keys are per app: a token signed by app A's key, claiming app B, MUST be refused by app B.",
			Refs:   []string{refAZKey, refRFC8725s33},
			Expect: must401i,
			Recipe: kit.Procedure{Doc: "app B's key cached by a valid B request; then a token for B signed by A's key", Fn: crossAppKey}},
		{ID: "KEY-013", Families: mcaOnly, Area: "keys", Title: "The AZ key endpoint serves a 512-bit key", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "A 512-bit RSA modulus is factorable by anyone: a key that weak from the key endpoint SHOULD be refused (tokens it signs are not accepted: 401 or a fail-closed 5xx).",
			Refs:   []string{"RFC 7518 §3.3 (a key of size 2048 bits or larger MUST be used with RS256)", "RFC 8725 §3.5 (ensure cryptographic keys have sufficient entropy)", refAZKey},
			Expect: same(Should, kit.InvalidToken, kit.FailClosed),
			Recipe: kit.Procedure{Doc: "fresh app whose publickey endpoint serves a 512-bit key; a pair signed by that key", Fn: weakKey(false)}},
		{ID: "KEY-014", Families: mcaOnly, Area: "keys", Title: "The AZ key endpoint serves a key with e = 1", Needs: []Need{NeedFreshApp, NeedAZControl},
			Rule:   "With a public exponent of 1 a signature is the encoded message itself, so anyone can forge one: such a key SHOULD be refused (401 or a fail-closed 5xx).",
			Refs:   []string{"RFC 8017 §3.1 (the RSA public exponent e is an integer between 3 and n - 1)", "RFC 8725 §3.3", refAZKey},
			Expect: same(Should, kit.InvalidToken, kit.FailClosed),
			Recipe: kit.Procedure{Doc: "fresh app whose publickey endpoint serves {n, e = 1}; a pair whose signatures are the PKCS #1 v1.5 encoded messages (no private key needed)", Fn: weakKey(true)}},
		{ID: "KEY-015", Families: []kit.Family{kit.FamilyAppID}, Area: "keys", Title: "kid shaped like a path",
			Rule:   "A kid is an opaque name matched against the JWKS, never a path: tokens whose kid is ../../publickey or /dev/null (signed by the app's key) MUST be refused as invalid_token (never a 5xx, never a key read from elsewhere); the key fetches they cause are recorded.",
			Refs:   []string{"RFC 7515 §4.1.4 (kid)", "RFC 8725 §3.10 (do not trust received claims)", refAZKey},
			Expect: must401i,
			Recipe: kit.Procedure{Doc: "two pairs for the App ID app whose kid is ../../publickey and /dev/null; fakeaz counts the app's key fetches", Fn: kidPaths}},
		{ID: "KEY-016", Families: []kit.Family{kit.FamilyAppID}, Area: "keys", Title: "A flood of unknown kids", Needs: []Need{NeedDisruptive},
			Rule:   "Tokens naming kids the JWKS does not hold MUST be refused, and the JWKS refetches they trigger MUST stay bounded (at most 5 for 40 tokens): an unknown kid cannot make the target hammer the AZ (MUST in strict, SHOULD in mca).",
			Refs:   []string{refKeyRotation, refHygiene, "RFC 7515 §4.1.4 (kid)"},
			Expect: split(exp(Should, kit.InvalidToken, kit.FailClosed), exp(Must, kit.InvalidToken, kit.FailClosed)),
			Recipe: kit.Procedure{Doc: "a valid pair first (the JWKS cached), then 40 pairs signed by the app's key, each naming a random kid; fakeaz counts JWKS fetches", Fn: kidFlood}},
	}
}

// weakKey serves a weak key at the app's publickey endpoint (a 512-bit
// modulus, or the app's own modulus with e = 1) and sends a pair signed for it.
func weakKey(exponentOne bool) func(ctx context.Context, e *kit.Env) error {
	return func(ctx context.Context, e *kit.Env) error {
		app, err := e.NewApp(ctx)
		if err != nil {
			return err
		}
		signer, sig := app, []tf.Mutation(nil)
		var body []byte
		if exponentOne {
			sig = muts(tf.SignedWithExponentOne())
			body, err = json.Marshal(tf.WeakKeyJSON(app.Factory.PublicKey().N, 1))
		} else {
			k, kerr := tf.GenerateKey(512, nil)
			if kerr != nil {
				return fmt.Errorf("%w: a 512-bit key (GODEBUG rsa1024min=0): %w", kit.ErrSetup, kerr)
			}
			f, ferr := tf.New(k, tf.WithIssuer(app.Factory.Issuer()), tf.WithShape(app.Factory.Shape()))
			if ferr != nil {
				return fmt.Errorf("%w: %w", kit.ErrSetup, ferr)
			}
			signer = &kit.App{ID: app.ID, Factory: f, Env: e}
			body, err = json.Marshal(tf.NewPublicKeyJSON(&k.PublicKey))
		}
		if err != nil {
			return fmt.Errorf("%w: %w", kit.ErrSetup, err)
		}
		if err := e.Fault(app.ID, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 200, Body: string(body)}); err != nil {
			return err
		}
		p, err := signer.Mint(true, sig, sig)
		if err != nil {
			return err
		}
		obs := e.Observation()
		obs.Token("access", p.Access)
		obs.Fact("key served", "%s", body)
		e.Protected(ctx, "pair signed for the weak key", app.ID, p.Header())
		return nil
	}
}

func kidPaths(ctx context.Context, e *kit.Env) error {
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	before := e.AZ().Stats()
	obs := e.Observation()
	for _, kid := range []string{tf.KeyIDParentPath, tf.KeyIDDevNull} {
		m := muts(tf.KeyID(kid))
		p, err := app.Mint(true, m, m)
		if err != nil {
			return err
		}
		x := e.Protected(ctx, "kid "+kid, app.ID, p.Header())
		if ok, why := kit.InvalidToken.Match(&x, nil); !ok {
			obs.Failf("kid %q: %s (%s)", kid, x.Brief(), why)
		}
	}
	obs.Fact("key fetches", "%d (the app's JWKS, refetched for an unknown kid, or anything a kid path reached)", keyFetches(e.AZ().Stats(), app.ID)-keyFetches(before, app.ID))
	return nil
}

func kidFlood(ctx context.Context, e *kit.Env) error {
	const n, bound = 40, 5
	app, p, err := kit.FreshPair(ctx, e, true)
	if err != nil || !e.ExpectAccepted(ctx, "valid pair (JWKS cached)", app.ID, p) {
		return err
	}
	obs := e.Observation()
	before := e.AZ().Stats()
	accepted := 0
	for i := range n {
		m := muts(tf.KeyID(randomGUID()))
		q, err := app.Mint(true, m, m)
		if err != nil {
			return err
		}
		if x := e.Protected(ctx, fmt.Sprintf("random kid %d", i), app.ID, q.Header()); x.Status == http.StatusOK {
			accepted++
		}
	}
	// App ID's publickeys (its JWKS) counts as publickey: keyFetches counts both.
	fetches := keyFetches(e.AZ().Stats(), app.ID) - keyFetches(before, app.ID)
	obs.Fact("JWKS fetches", "%d for %d tokens with unknown kids", fetches, n)
	if accepted > 0 {
		obs.Failf("%d token(s) naming a kid the JWKS does not hold were accepted", accepted)
	}
	if fetches > bound {
		obs.Failf("%d JWKS fetches for %d unknown kids (bound %d)", fetches, n, bound)
	}
	return nil
}

func keyFetches(s fakeaz.Stats, app string) int {
	return s.Count(fakeaz.EndpointPublicKey, app) + s.Count(fakeaz.EndpointJWKS, app)
}

// faultedApp returns a fresh app whose AZ endpoint fails as f says (until
// the case ends or the faults are cleared).
func faultedApp(ctx context.Context, e *kit.Env, f fakeaz.FaultSpec) (*kit.App, error) {
	app, err := e.NewApp(ctx)
	if err != nil {
		return nil, err
	}
	return app, e.Fault(app.ID, f)
}

func concurrentDuringHang(ctx context.Context, e *kit.Env) error {
	const n = 16
	app, err := faultedApp(ctx, e, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Hang: true})
	if err != nil {
		return err
	}
	_, xs, err := e.SendFreshPairs(ctx, app, n, nil)
	if err != nil {
		return err
	}
	obs := e.Observation()
	bound := e.Kit().Bound()
	var slowest time.Duration
	for i := range xs {
		slowest = max(slowest, xs[i].Latency)
		if ok, _ := kit.FailClosed.Match(&xs[i], nil); !ok || xs[i].Latency > bound {
			obs.Failf("request %d: %s", i, xs[i].Brief())
		}
	}
	obs.Fact("slowest", "%s", slowest.Round(time.Millisecond))
	return nil
}

// retry sends fresh valid pairs for the app until one is accepted or the deadline passes.
func retry(ctx context.Context, e *kit.Env, obs *kit.Observation, step string, app *kit.App, within time.Duration) (time.Duration, bool, error) {
	start := time.Now()
	for {
		p, err := app.Mint(true, nil, nil)
		if err != nil {
			return 0, false, err
		}
		obs.Want = p.Want
		x := e.Protected(ctx, step, app.ID, p.Header())
		if x.Status == http.StatusOK {
			return time.Since(start), true, nil
		}
		if time.Since(start) > within || e.Kit().Unresponsive() {
			return time.Since(start), false, nil
		}
		if err := kit.SleepUntil(ctx, time.Now().Add(250*time.Millisecond)); err != nil {
			return 0, false, err
		}
	}
}

func recovery(ctx context.Context, e *kit.Env) error {
	app, err := faultedApp(ctx, e, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500})
	if err != nil {
		return err
	}
	obs := e.Observation()
	p, err := app.Mint(true, nil, nil)
	if err != nil {
		return err
	}
	if x := e.Protected(ctx, "during outage", app.ID, p.Header()); x.Status == http.StatusOK {
		obs.Failf("precondition: accepted a token while the key endpoint was failing")
		return nil
	}
	return awaitRecovery(ctx, e, app, "after recovery", "recovered after")
}

// awaitRecovery clears the AZ faults and sends fresh valid pairs for the
// app (step) until one is accepted, for up to 10 s; the fact named fact
// records how long it took.
func awaitRecovery(ctx context.Context, e *kit.Env, app *kit.App, step, fact string) error {
	e.AZ().ClearFaults()
	obs := e.Observation()
	took, ok, err := retry(ctx, e, obs, step, app, 10*time.Second)
	if err != nil {
		return err
	}
	obs.Fact(fact, "%s (ok=%v)", took.Round(time.Millisecond), ok)
	return nil
}

// rotateAndWait gets a valid pair accepted (so the target caches the key),
// rotates the app's key at the AZ (retiring the old one if retire), and
// sends new-key pairs until one is accepted or 15 s pass. It returns the
// app as it was (old key) and whether the new key was accepted; obs holds
// the exchanges. done is true when a precondition failed and obs says why.
func rotateAndWait(ctx context.Context, e *kit.Env, obs *kit.Observation, retire bool) (old *kit.App, took time.Duration, ok, done bool, err error) {
	app, p, err := kit.FreshPair(ctx, e, true)
	if err != nil {
		return nil, 0, false, false, err
	}
	if !e.ExpectAccepted(ctx, "before rotation", app.ID, p) {
		return app, 0, false, true, nil
	}
	if err := e.AZ().RotateKey(app.ID, 0); err != nil {
		return nil, 0, false, false, fmt.Errorf("%w: rotate: %w", kit.ErrSetup, err)
	}
	if retire {
		if err := e.AZ().RetireOldKeys(app.ID); err != nil {
			return nil, 0, false, false, fmt.Errorf("%w: retire: %w", kit.ErrSetup, err)
		}
	}
	nf, err := e.AZ().Factory(app.ID)
	if err != nil {
		return nil, 0, false, false, fmt.Errorf("%w: %w", kit.ErrSetup, err)
	}
	newApp := &kit.App{ID: app.ID, Factory: nf, Env: e}
	took, ok, err = retry(ctx, e, obs, "new key", newApp, 15*time.Second)
	return app, took, ok, false, err
}

func rotation(ctx context.Context, e *kit.Env) error {
	obs := e.Observation()
	_, took, ok, done, err := rotateAndWait(ctx, e, obs, false)
	if err != nil || done {
		return err
	}
	obs.Fact("new key accepted after", "%s (ok=%v)", took.Round(time.Millisecond), ok)
	return nil
}

func retiredKey(ctx context.Context, e *kit.Env) error {
	obs := e.Observation()
	oldApp, _, ok, done, err := rotateAndWait(ctx, e, obs, true)
	if err != nil || done {
		return err
	}
	if !ok {
		return Skip("the target never accepted the rotated key within 15 s (see KEY-008), so retirement cannot be observed")
	}
	old, err := oldApp.Mint(true, nil, nil)
	if err != nil {
		return err
	}
	obs.Want = nil
	e.Protected(ctx, "never-seen token signed by the retired key", oldApp.ID, old.Header())
	return nil
}

func unknownAppFlood(apps, requests, maxFetches int) func(ctx context.Context, e *kit.Env) error {
	return func(ctx context.Context, e *kit.Env) error {
		f, err := tf.New(e.AttackerKey(), tf.WithIssuer(tf.MCAIssuer(e.AZ().URL())))
		if err != nil {
			return err
		}
		ids := make([]string, apps)
		for i := range ids {
			ids[i] = randomGUID()
		}
		before := e.AZ().Stats()
		obs := e.Observation()
		accepted := 0
		for i := range requests {
			id := ids[i%apps]
			tok, err := f.AccessToken(tf.Access{AppID: id, ClientID: e.ClientID()})
			if err != nil {
				return err
			}
			x := e.Protected(ctx, fmt.Sprintf("unknown app %d", i), id, "Bearer "+tok)
			if x.Status == http.StatusOK {
				accepted++
			}
		}
		after := e.AZ().Stats()
		fetches := 0
		for _, id := range ids {
			fetches += keyFetches(after, id) - keyFetches(before, id)
		}
		obs.Fact("key fetches", "%d for %d requests over %d unknown app id(s)", fetches, requests, apps)
		if accepted > 0 {
			obs.Failf("%d token(s) for unknown apps were accepted", accepted)
		}
		if maxFetches > 0 && fetches > maxFetches {
			obs.Failf("%d key fetches for %d requests (bound %d)", fetches, requests, maxFetches)
		}
		return nil
	}
}

func randomGUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func crossAppKey(ctx context.Context, e *kit.Env) error {
	b, a, pb, err := kit.TwoApps(ctx, e)
	if err != nil || !e.ExpectAccepted(ctx, "valid pair for B", b.ID, pb) {
		return err
	}
	forged := &kit.App{ID: b.ID, Factory: a.Factory, Env: e}
	p, err := forged.Mint(true, nil, nil)
	if err != nil {
		return err
	}
	e.Observation().Token("access", p.Access)
	e.Protected(ctx, "token for B signed by A's key", b.ID, p.Header())
	return nil
}
