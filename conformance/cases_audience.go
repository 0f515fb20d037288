package conformance

import (
	"context"
	"net/http"

	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func audienceCases() []Case {
	near := func(id string, kind tf.AudNearMissKind) Case {
		return Case{ID: id, Families: mcaOnly, Area: "audience", Title: "aud is a near miss of the app id (" + string(kind) + ")",
			Rule: "aud MUST equal the app id exactly: a near miss (" + string(kind) + ") MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " aud", refSeedAud}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.AudNearMiss(kind))}}
	}
	return []Case{
		{ID: "AUD-001", Families: mcaOnly, Area: "audience", Title: "aud is another app id", Rule: "aud MUST equal the app id: a token for another app MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " aud", refSeedAud}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.WrongAud(tf.DefaultOtherAppID))}},
		near("AUD-002", tf.AudPrefix),
		near("AUD-003", tf.AudSuffix),
		near("AUD-004", tf.AudUpperCase),
		near("AUD-005", tf.AudTrailingSpace),
		near("AUD-006", tf.AudLeadingSpace),
		{ID: "AUD-007", Area: "audience", Title: "No aud claim", Rule: "A token without aud is good for any app: it MUST be refused (RFC 9068 §4); SHOULD in mca.",
			Refs: []string{refRFC9068}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.NoAud())}},
		{ID: "AUD-008", Families: mcaOnly, Area: "audience", Title: "aud is an array holding the app id", Rule: "MCA tokens carry aud as a string; what the target does with an array holding the app id is recorded.",
			Refs: []string{"RFC 7519 §4.1.3"}, Expect: same(Info, kit.Observed), Recipe: kit.Tokens{Access: muts(tf.AudArray())}},
		{ID: "AUD-009", Families: mcaOnly, Area: "audience", Title: "aud is an array holding only another app id", Rule: "An aud array without the app id MUST be refused as invalid_token.",
			Refs: []string{"RFC 7519 §4.1.3"}, Expect: must401i, Recipe: kit.Tokens{Access: muts(tf.WrongAud(tf.DefaultOtherAppID), tf.AudArray())}},
		{ID: "AUD-010", Area: "audience", Title: "iss is another issuer", Rule: "iss MUST be the AZ the target trusts (RFC 9068 §4), compared exactly with the configured issuer (MCA_ISSUER, the real AZ's {serverUrl}/authorization/), in strict; the seed strategy never read iss.",
			Refs: []string{refRFC9068, "RFC 8725 §3.8", refContractIssuer}, Expect: split(exp(Info, kit.Observed), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.WrongIss("https://attacker.invalid/imf-authserver"))}},
		{ID: "AUD-011", Area: "audience", Title: "No iss claim", Rule: "A token without iss cannot match the configured issuer (MCA_ISSUER): it MUST be refused in strict; recorded in mca.",
			Refs: []string{refRFC9068, refContractIssuer}, Expect: split(exp(Info, kit.Observed), exp(Must, kit.InvalidToken)), Recipe: kit.Tokens{Access: muts(tf.NoIss())}},
		{ID: "AUD-012", Families: mcaOnly, Area: "audience", Title: "aud is another app id in the id token only", Rule: "The id token's aud MUST equal the app id too.",
			Refs: []string{"OIDC Core §3.1.3.7 (3)", refSeedInvalid}, Expect: must401i, Recipe: kit.Tokens{ID: muts(tf.WrongAud(tf.DefaultOtherAppID))}},
		{ID: "AUD-013", Area: "audience", Title: "An app id in the path that only looks like a GUID", Needs: []Need{NeedFreshApp},
			Rule: "The app id is a GUID of hexadecimal digits: a path segment with commas or other characters in GUID positions is no app id. The request MUST get a 4xx and the target MUST NOT fetch a key for it (one npm strategy's pattern [0-9,a-f] did).",
			Refs: []string{refContractAppID, "RFC 9562 §4 (UUID format: hexadecimal digits)"}, Expect: same(Must, kit.Rejected), Recipe: kit.Procedure{
				Doc: "pairs signed by a fresh app's key whose aud is the look-alike, sent to /v1/apps/,,,,,,,,-,,,,-,,,,-,,,,-,,,,,,,,,,,,/protected and to the app id with a comma for its last digit; fakeaz counts key fetches for those ids",
				Fn:  guidLookalike}},
		{ID: "AUD-014", Area: "audience", Title: "A protected path with no app id at all", Needs: []Need{NeedFreshApp},
			Rule: "A protected route whose path holds no GUID has no app to validate for: a request with valid tokens MUST get a 4xx, never 200 or a 5xx.",
			Refs: []string{refContractAppID, refHygiene}, Expect: same(Must, kit.Rejected), Recipe: kit.Procedure{
				Doc: "a valid pair for a fresh app sent to /v1/apps/not-an-app-id/protected",
				Fn: func(ctx context.Context, e *kit.Env) error {
					_, p, err := kit.FreshPair(ctx, e, true)
					if err != nil {
						return err
					}
					e.Get(ctx, "no GUID in the path", "/v1/apps/not-an-app-id/protected", http.Header{"Authorization": {p.Header()}})
					return nil
				}}},
	}
}

// GUIDLookalikes are the path app ids of AUD-013: GUID-shaped, not GUIDs.
func guidLookalikes(appID string) []string {
	return []string{",,,,,,,,-,,,,-,,,,-,,,,-,,,,,,,,,,,,", appID[:len(appID)-1] + ","}
}

func guidLookalike(ctx context.Context, e *kit.Env) error {
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	ids := guidLookalikes(app.ID)
	before := e.AZ().Stats()
	for _, id := range ids {
		// aud names the look-alike, so a validator that takes it for an
		// app id gets as far as fetching its key.
		m := muts(tf.WrongAud(id))
		p, err := app.Mint(true, m, m)
		if err != nil {
			return err
		}
		e.Get(ctx, "app id "+id, "/v1/apps/"+id+"/protected", http.Header{"Authorization": {p.Header()}})
	}
	obs := e.Observation()
	after := e.AZ().Stats()
	for i, x := range obs.Exchanges {
		if x.Status < 400 || x.Status >= 500 {
			obs.Failf("app id %s: %s, want a 4xx", ids[i], x.Brief())
		}
	}
	for _, id := range ids {
		if n := keyFetches(after, id) - keyFetches(before, id); n > 0 {
			obs.Failf("the target fetched the key of %q %d time(s): it took a GUID-shaped string for an app id", id, n)
		}
	}
	return nil
}
