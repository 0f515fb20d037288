package conformance

import (
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func audienceCases() []Case {
	near := func(id, kind string) Case {
		return Case{ID: id, Families: mcaOnly, Area: "audience", Title: "aud is a near miss of the app id (" + kind + ")",
			Rule: "aud MUST equal the app id exactly: a near miss (" + kind + ") MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " aud", refSeedAud}, Expect: must401i, Recipe: Tokens{Access: muts(tf.AudNearMiss(kind))}}
	}
	return []Case{
		{ID: "AUD-001", Families: mcaOnly, Area: "audience", Title: "aud is another app id", Rule: "aud MUST equal the app id: a token for another app MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " aud", refSeedAud}, Expect: must401i, Recipe: Tokens{Access: muts(tf.WrongAud(tf.DefaultOtherAppID))}},
		near("AUD-002", tf.AudPrefix),
		near("AUD-003", tf.AudSuffix),
		near("AUD-004", tf.AudUpperCase),
		near("AUD-005", tf.AudTrailingSpace),
		near("AUD-006", tf.AudLeadingSpace),
		{ID: "AUD-007", Area: "audience", Title: "No aud claim", Rule: "A token without aud is good for any app: it MUST be refused (RFC 9068 §4); SHOULD in mca.",
			Refs: []string{refRFC9068}, Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.NoAud())}},
		{ID: "AUD-008", Families: mcaOnly, Area: "audience", Title: "aud is an array holding the app id", Rule: "MCA tokens carry aud as a string; what the target does with an array holding the app id is recorded.",
			Refs: []string{"RFC 7519 §4.1.3"}, Expect: same(Info, Observed), Recipe: Tokens{Access: muts(tf.AudArray())}},
		{ID: "AUD-009", Families: mcaOnly, Area: "audience", Title: "aud is an array holding only another app id", Rule: "An aud array without the app id MUST be refused as invalid_token.",
			Refs: []string{"RFC 7519 §4.1.3"}, Expect: must401i, Recipe: Tokens{Access: muts(tf.WrongAud(tf.DefaultOtherAppID), tf.AudArray())}},
		{ID: "AUD-010", Area: "audience", Title: "iss is another issuer", Rule: "iss MUST be the AZ the target trusts (RFC 9068 §4) in strict; the seed strategy never read iss.",
			Refs: []string{refRFC9068, "RFC 8725 §3.8"}, Expect: split(exp(Info, Observed), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.WrongIss("https://attacker.invalid/imf-authserver"))}},
		{ID: "AUD-011", Area: "audience", Title: "No iss claim", Rule: "A token without iss MUST be refused in strict; recorded in mca.",
			Refs: []string{refRFC9068}, Expect: split(exp(Info, Observed), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.NoIss())}},
		{ID: "AUD-012", Families: mcaOnly, Area: "audience", Title: "aud is another app id in the id token only", Rule: "The id token's aud MUST equal the app id too.",
			Refs: []string{"OIDC Core §3.1.3.7 (3)", refSeedInvalid}, Expect: must401i, Recipe: Tokens{ID: muts(tf.WrongAud(tf.DefaultOtherAppID))}},
	}
}
