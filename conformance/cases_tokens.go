package conformance

import (
	"fmt"
	"strings"
	"time"

	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

// Catalogue returns every case, in run order (calibration first). The
// slice is new on every call.
func Catalogue() []Case {
	var cs []Case
	cs = append(cs, calibrationCases()...)
	cs = append(cs, headerCases()...)
	cs = append(cs, structureCases()...)
	cs = append(cs, signatureCases()...)
	cs = append(cs, timeCases()...)
	cs = append(cs, audienceCases()...)
	cs = append(cs, idTokenCases()...)
	cs = append(cs, cacheCases()...)
	cs = append(cs, keyCases()...)
	cs = append(cs, propagationCases()...)
	cs = append(cs, resilienceCases()...)
	return cs
}

// CalibrationIDs are the cases that must pass before any other runs: if
// the valid token is refused or garbage accepted, the run is invalid.
var CalibrationIDs = []string{"CAL-001", "CAL-002", "CAL-003"}

func calibrationCases() []Case {
	return []Case{
		{ID: "CAL-001", Area: "calibration", Title: "A valid access and id token pair is accepted",
			Rule: "A valid RS256 access token with its id token, for the app in the URL, MUST be accepted with the security context of the id token.",
			Refs: []string{refSeedCtx, refSeedVerify}, Expect: same(Must, Accepted),
			Recipe: Tokens{}},
		{ID: "CAL-002", Area: "calibration", Title: "A valid access token alone is accepted",
			Rule: "A valid access token without an id token MUST be accepted; imf.sub is the access token's prn and the three objects are {}.",
			Refs: []string{refSeedCtx, refSeedHeader}, Expect: same(Must, Accepted),
			Recipe: Tokens{NoID: true}},
		{ID: "CAL-003", Area: "calibration", Title: "A garbage token is refused",
			Rule: "A token that is not a JWS at all MUST be refused with a 4xx.",
			Refs: []string{refSeedInvalid}, Expect: same(Must, Rejected),
			Recipe: Tokens{Format: fixed("Bearer garbage-not-a-token"), FormatDoc: "Bearer garbage-not-a-token"}},
	}
}

// fixed returns a Format that ignores the tokens.
func fixed(vals ...string) func(string, string) []string {
	return func(string, string) []string { return vals }
}

func headerCases() []Case {
	scheme := func(id, s string) Case {
		return Case{ID: id, Area: "header", Title: fmt.Sprintf("%s scheme is not Bearer", s),
			Rule:   fmt.Sprintf("An Authorization header with the %s scheme carries no bearer token: it SHOULD get a bare Bearer challenge (RFC 6750 §3.1); the seed strategy answers 400.", s),
			Refs:   []string{refSeedHeader, refRFC6750s3},
			Expect: split(exp(Should, BadRequest), exp(Should, BareChallenge)),
			Recipe: Tokens{Format: func(a, _ string) []string { return []string{s + " " + a} }, FormatDoc: s + " <access>"}}
	}
	badSyntax := func(id, title, doc string, f func(a, i string) []string) Case {
		return Case{ID: id, Area: "header", Title: title,
			Rule:   "A Bearer header that does not match 'Bearer <b64token> [<b64token>]' MUST be refused with 400 (strict: error=\"invalid_request\"), never a 5xx.",
			Refs:   []string{refSeedHeader, refRFC6750s2, refRFC6750s3},
			Expect: split(exp(Must, BadRequest), exp(Must, InvalidRequest)),
			Recipe: Tokens{Format: f, FormatDoc: doc}}
	}
	caseInsensitive := func(id, s string) Case {
		return Case{ID: id, Area: "header", Title: fmt.Sprintf("Scheme spelled %q with valid tokens", s),
			Rule:   "Authentication schemes are case-insensitive (RFC 9110 §11.1): a valid pair under '" + s + "' SHOULD be accepted; the seed strategy may answer 400.",
			Refs:   []string{"RFC 9110 §11.1", refSeedHeader},
			Expect: split(exp(Must, BadRequest, Accepted), exp(Should, Accepted)),
			Recipe: Tokens{Format: func(a, i string) []string { return []string{s + " " + a + " " + i} }, FormatDoc: s + " <access> <id>"}}
	}
	spacing := func(id, title, doc, sep string) Case {
		return Case{ID: id, Area: "header", Title: title,
			Rule:   "Parts separated by any run of spaces or tabs MUST be accepted (the seed strategy splits on whitespace); informational in strict.",
			Refs:   []string{refSeedHeader},
			Expect: split(exp(Must, Accepted), exp(Info, Observed)),
			Recipe: Tokens{Format: func(a, i string) []string { return []string{"Bearer" + sep + a + sep + i} }, FormatDoc: doc}}
	}
	return []Case{
		{ID: "HDR-001", Area: "header", Title: "No Authorization header",
			Rule: "A request without an Authorization header MUST get 401 with a bare Bearer challenge (realm=\"imfAuthentication\", no error code).",
			Refs: []string{refSeedNoAuth, refRFC6750s3}, Expect: same(Must, BareChallenge),
			Recipe: Tokens{Format: fixed(), FormatDoc: "no Authorization header"}},
		scheme("HDR-002", "Basic"),
		scheme("HDR-003", "Token"),
		scheme("HDR-004", "MAC"),
		badSyntax("HDR-005", "Bearer with nothing after it", "Bearer", func(_, _ string) []string { return []string{"Bearer"} }),
		badSyntax("HDR-006", "Bearer followed by spaces only", "'Bearer   '", func(_, _ string) []string { return []string{"Bearer   "} }),
		badSyntax("HDR-007", "Three tokens", "Bearer <access> <id> <access>", func(a, i string) []string { return []string{"Bearer " + a + " " + i + " " + a} }),
		badSyntax("HDR-008", "A token wrapped in double quotes", `Bearer "<access>"`, func(a, _ string) []string { return []string{`Bearer "` + a + `"`} }),
		badSyntax("HDR-009", "A token containing '{'", "Bearer {<access>", func(a, _ string) []string { return []string{"Bearer {" + a} }),
		badSyntax("HDR-010", "A token containing a comma", "Bearer <access>,<id>", func(a, i string) []string { return []string{"Bearer " + a + "," + i} }),
		badSyntax("HDR-011", "A token with non-ASCII characters", "Bearer <access>é", func(a, _ string) []string { return []string{"Bearer " + a + "é"} }),
		{ID: "HDR-012", Area: "header", Title: "A carriage return inside a token",
			Rule:   "A bare CR inside a token MUST be refused with a 4xx, never a 5xx or a hang (whether the HTTP layer rejects it or replaces it with a space, RFC 9110 §5.5).",
			Refs:   []string{"RFC 9110 §5.5", refSeedHeader},
			Expect: same(Must, Rejected),
			Recipe: rawHeaderRecipe("Authorization: Bearer <first half of access>\\r<second half> <id>", func(a, i string) string { return "Bearer " + a[:len(a)/2] + "\r" + a[len(a)/2:] + " " + i })},
		caseInsensitive("HDR-013", "bearer"),
		caseInsensitive("HDR-014", "BEARER"),
		spacing("HDR-015", "Several spaces between the parts", "'Bearer  <access>   <id>'", "   "),
		spacing("HDR-016", "Tabs between the parts", "'Bearer\\t<access>\\t<id>'", "\t"),
		{ID: "HDR-017", Area: "header", Title: "Two Authorization headers",
			Rule:   "A request with two Authorization header lines is ambiguous and SHOULD be refused with 400 (strict); recorded in mca.",
			Refs:   []string{"RFC 9110 §5.3 (a sender MUST NOT generate multiple Authorization fields)", refRFC6750s3},
			Expect: split(exp(Info, Observed), exp(Should, BadRequest, InvalidRequest)),
			Recipe: Tokens{Format: func(a, i string) []string { return []string{"Bearer " + a + " " + i, "Bearer " + a} }, FormatDoc: "two Authorization lines, both valid"}},
		{ID: "HDR-018", Area: "header", Title: "Token in the header and in the access_token query parameter",
			Rule:   "Clients MUST NOT use more than one method to send the token (RFC 6750 §2); such a request SHOULD be refused with 400 (strict); recorded in mca.",
			Refs:   []string{"RFC 6750 §2, §2.3", refRFC6750s3},
			Expect: split(exp(Info, Observed), exp(Should, BadRequest, InvalidRequest)),
			Recipe: Tokens{Query: func(a string) string { return "?access_token=" + a }, FormatDoc: "Bearer <access> <id> plus ?access_token=<access>"}},
		{ID: "HDR-019", Area: "header", Title: "A 90 KiB Authorization header",
			Rule:   "A very large header (a validly signed token with a 64 KiB claim) MUST be refused with a 4xx quickly, without a crash.",
			Refs:   []string{refHygiene, "RFC 6585 §5 (431)"},
			Expect: same(Must, Rejected),
			Recipe: Tokens{Access: muts(tf.Oversized(64 << 10))}},
		{ID: "HDR-020", Area: "header", Title: "An empty Authorization header",
			Rule:   "An empty Authorization value carries no credentials: it MUST get 401 with a bare challenge or 400, never 200 or a 5xx.",
			Refs:   []string{refSeedNoAuth, refRFC6750s3},
			Expect: split(exp(Must, BareChallenge, BadRequest), exp(Must, BareChallenge, InvalidRequest)),
			Recipe: Tokens{Format: fixed(""), FormatDoc: "Authorization: (empty)"}},
		{ID: "HDR-021", Area: "header", Title: "Tokens separated by an obsolete line fold",
			Rule:   "An obs-fold between the tokens may be rejected (400) or unfolded into a space (RFC 9112 §5.2); what the target does is recorded.",
			Refs:   []string{"RFC 9112 §5.2 (obs-fold)"},
			Expect: same(Info, Observed),
			Recipe: rawHeaderRecipe("Authorization: Bearer <access>\\r\\n <id> (obsolete line folding)", func(a, i string) string { return "Bearer " + a + "\r\n " + i })},
	}
}

// structure cases are all "an invalid token is refused with invalid_token".
func structureCases() []Case {
	c := func(id, title, rule string, refs []string, m tf.Mutation) Case {
		return Case{ID: id, Area: "structure", Title: title, Rule: rule, Refs: append(refs, refSeedInvalid), Expect: must401i,
			Recipe: Tokens{Access: muts(m)}}
	}
	segRule := "A compact JWS has exactly three segments; anything else MUST be refused as invalid_token."
	encRule := "Segments are base64url without padding (RFC 7515 §2); other encodings MUST be refused as invalid_token."
	jsonRule := "Header and payload MUST be JSON objects in valid UTF-8; anything else MUST be refused as invalid_token."
	dupRule := "A JSON object with a duplicate claim name is ambiguous (parsers differ on which value wins) and MUST be refused (RFC 7519 §4, RFC 8725 §3.11)."
	typeRule := "Registered claims have fixed types (exp NumericDate, aud string); a wrongly typed claim MUST be refused as invalid_token."
	out := []Case{
		c("STR-001", "One segment (header only)", segRule, []string{refRFC7515}, tf.SegmentCount(1)),
		c("STR-002", "Two segments (signature removed with its dot)", segRule, []string{refRFC7515}, tf.SegmentCount(2)),
		c("STR-003", "Four segments", segRule, []string{refRFC7515}, tf.SegmentCount(4)),
		c("STR-004", "Five segments (JWE shape)", segRule, []string{refRFC7515, "RFC 7516 §7.1"}, tf.SegmentCount(5)),
		c("STR-005", "Empty header segment", segRule, []string{refRFC7515}, tf.EmptySegment(tf.SegHeader)),
		c("STR-006", "Empty payload segment", segRule, []string{refRFC7515}, tf.EmptySegment(tf.SegPayload)),
		c("STR-007", "'+' in the payload segment", encRule, []string{refRFC7515}, tf.ForeignChar('+')),
		c("STR-008", "'/' in the payload segment", encRule, []string{refRFC7515}, tf.ForeignChar('/')),
		c("STR-009", "'~' in the payload segment", encRule, []string{refRFC7515}, tf.ForeignChar('~')),
		c("STR-010", "Padded base64url segments", encRule, []string{refRFC7515}, tf.Padded()),
		c("STR-011", "Standard base64 alphabet", encRule, []string{refRFC7515}, tf.StdAlphabet()),
		c("STR-012", "Payload is a JSON array", jsonRule, []string{refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONArray)),
		c("STR-013", "Payload is a JSON number", jsonRule, []string{refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONNumber)),
		c("STR-014", "Payload is a JSON string", jsonRule, []string{refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONString)),
		c("STR-015", "Payload is not JSON", jsonRule, []string{refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONGarbage)),
		c("STR-016", "Payload is truncated JSON", jsonRule, []string{refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONTruncated)),
		c("STR-017", "Payload with invalid UTF-8", jsonRule, []string{"RFC 8259 §8.1", refRFC7519}, tf.NotJSONObject(tf.SegPayload, tf.JSONInvalidUTF8)),
		c("STR-018", "Header is a JSON array", jsonRule, []string{refRFC7515}, tf.NotJSONObject(tf.SegHeader, tf.JSONArray)),
		c("STR-019", "Header is not JSON", jsonRule, []string{refRFC7515}, tf.NotJSONObject(tf.SegHeader, tf.JSONGarbage)),
		c("STR-020", "Header with invalid UTF-8", jsonRule, []string{"RFC 8259 §8.1", refRFC7515}, tf.NotJSONObject(tf.SegHeader, tf.JSONInvalidUTF8)),
		c("STR-021", "Duplicate aud, wrong value first", dupRule, []string{"RFC 7519 §4", "RFC 8725 §3.11"}, tf.DuplicateClaim("aud", tf.DefaultOtherAppID, true)),
		c("STR-022", "Duplicate aud, wrong value last", dupRule, []string{"RFC 7519 §4", "RFC 8725 §3.11"}, tf.DuplicateClaim("aud", tf.DefaultOtherAppID, false)),
		c("STR-023", "Duplicate exp, expired value first", dupRule, []string{"RFC 7519 §4", "RFC 8725 §3.11"}, tf.DuplicateClaim("exp", 1, true)),
		c("STR-024", "Duplicate exp, expired value last", dupRule, []string{"RFC 7519 §4", "RFC 8725 §3.11"}, tf.DuplicateClaim("exp", 1, false)),
		c("STR-025", "exp is a string", typeRule, []string{refRFC7519}, tf.RetypeClaim("exp", tf.TypeString)),
		c("STR-026", "aud is a number", typeRule, []string{refRFC7519}, tf.RetypeClaim("aud", tf.TypeNumber)),
		c("STR-027", "exp is null", typeRule, []string{refRFC7519}, tf.RetypeClaim("exp", tf.TypeNull)),
		c("STR-028", "exp is an object", typeRule, []string{refRFC7519}, tf.RetypeClaim("exp", tf.TypeObject)),
	}
	out = append(out,
		Case{ID: "STR-029", Area: "structure", Title: "iat is a string",
			Rule: "iat is a NumericDate; a string iat SHOULD be refused (strict); recorded in mca, which never read iat.",
			Refs: []string{refRFC7519}, Expect: split(exp(Info, Observed), exp(Should, InvalidToken)),
			Recipe: Tokens{Access: muts(tf.RetypeClaim("iat", tf.TypeString))}},
		Case{ID: "STR-030", Area: "structure", Title: "Access token without prn",
			Rule: "An access token names its client in prn; without it the request has no subject and MUST be refused.",
			Refs: []string{refSeedCtx, "RFC 7519 §4.1.2 (sub: the principal the token is about)"}, Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)),
			Recipe: Tokens{NoID: true, Access: muts(tf.WithoutClaim("prn"))}},
	)
	return out
}

func signatureCases() []Case {
	c := func(id, title, rule string, refs []string, m tf.Mutation) Case {
		return Case{ID: id, Area: "signature", Title: title, Rule: rule, Refs: append(refs, refSeedInvalid), Expect: must401i,
			Recipe: Tokens{Access: muts(m)}}
	}
	sigRule := "The RS256 signature MUST be verified with the AZ's key for the app; a token whose signature does not verify MUST be refused as invalid_token."
	algRule := "Only RS256 is issued: a validator MUST pin the algorithm and refuse any other alg in the header (RFC 8725 §3.1)."
	keyRule := "The verification key MUST come from the AZ, never from the token: embedded keys MUST be ignored and key URLs MUST NOT be fetched."
	out := []Case{
		c("SIG-001", "Signed by another RSA key", sigRule, []string{refRFC8725s33}, tf.SignedBy(nil)),
		c("SIG-002", "One bit flipped in the header", sigRule, []string{refRFC8725s33}, tf.FlipBit(tf.SegHeader)),
		c("SIG-003", "One bit flipped in the payload", sigRule, []string{refRFC8725s33}, tf.FlipBit(tf.SegPayload)),
		c("SIG-004", "One bit flipped in the signature", sigRule, []string{refRFC8725s33}, tf.FlipBit(tf.SegSignature)),
		c("SIG-005", "Signature stripped (trailing dot kept)", sigRule, []string{refRFC8725s33}, tf.SignatureStripped()),
	}
	// Every ID is a literal: adding a spelling or a key form takes the next
	// free number (conformance/testdata/ids.golden), never renumbers these.
	none := func(id, spelling string, keepSig bool) Case {
		v := "empty signature"
		if keepSig {
			v = "original RS256 signature"
		}
		return c(id, fmt.Sprintf("alg %q with %s", spelling, v), algRule, []string{refRFC8725s2, "RFC 7518 §3.6"}, tf.AlgNone(spelling, keepSig))
	}
	hs256 := func(id, form string) Case {
		return c(id, "HS256 keyed with the AZ public key as "+form, algRule+" HS256 keyed with the public key is the classic key-confusion forgery.", []string{refRFC8725s2, "CVE-2015-9235 (jsonwebtoken key confusion)"}, tf.HS256WithPublicKey(form))
	}
	out = append(out,
		none("SIG-006", "none", false),
		none("SIG-007", "None", false),
		none("SIG-008", "NONE", false),
		none("SIG-009", "nOnE", false),
		none("SIG-010", "none", true),
		none("SIG-011", "None", true),
		none("SIG-012", "NONE", true),
		none("SIG-013", "nOnE", true),
		hs256("SIG-014", tf.KeyPKCS1PEM),
		hs256("SIG-015", tf.KeyPKCS1PEMNoNewline),
		hs256("SIG-016", tf.KeySPKIPEM),
		hs256("SIG-017", tf.KeySPKIPEMNoNewline),
		hs256("SIG-018", tf.KeyPKCS1DER),
		hs256("SIG-019", tf.KeySPKIDER),
		hs256("SIG-020", tf.KeyPublicKeyJSON),
		c("SIG-021", "HS256 with an empty secret", algRule, []string{refRFC8725s2}, tf.HS256EmptySecret()),
		c("SIG-022", "RS512 signed by the AZ key", algRule, []string{refRFC8725s2}, tf.AlgSameKey("RS512")),
		c("SIG-023", "PS256 signed by the AZ key", algRule, []string{refRFC8725s2}, tf.AlgSameKey("PS256")),
		c("SIG-024", "RS384 signed by the AZ key", algRule, []string{refRFC8725s2}, tf.AlgSameKey("RS384")),
		c("SIG-025", "Attacker key embedded as jpk", keyRule, []string{"RFC 8725 §3.10", "fakeaz/README.md §Decisions where the protocol is silent (tokens carry jpk)"}, tf.EmbeddedKey(tf.EmbedJPK, nil)),
		c("SIG-026", "Attacker key embedded as jwk", keyRule, []string{"RFC 7515 §4.1.3", "CVE-2018-0114"}, tf.EmbeddedKey(tf.EmbedJWK, nil)),
		c("SIG-027", "Attacker certificate embedded as x5c", keyRule, []string{"RFC 7515 §4.1.6"}, tf.EmbeddedKey(tf.EmbedX5C, nil)),
		c("SIG-030", "alg ES256 with the psychic signature r = s = 0", algRule, []string{refRFC8725s2, "CVE-2022-21449"}, tf.PsychicES256()),
		keyURLCase("SIG-028", tf.URLJKU, "jwks.json"),
		keyURLCase("SIG-029", tf.URLX5U, "cert.pem"),
	)
	return out
}

func timeCases() []Case {
	return []Case{
		{ID: "TIM-001", Area: "time", Title: "Expired an hour ago", Rule: "A token whose exp is in the past MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " exp", refSeedInvalid}, Expect: must401i, Recipe: Tokens{Access: muts(tf.ExpiredBy(time.Hour))}},
		{ID: "TIM-002", Area: "time", Title: "Expired a year ago", Rule: "A token whose exp is far in the past MUST be refused as invalid_token.",
			Refs: []string{refRFC7519 + " exp", refSeedInvalid}, Expect: must401i, Recipe: Tokens{Access: muts(tf.ExpiredBy(365 * 24 * time.Hour))}},
		{ID: "TIM-003", Area: "time", Title: "exp equal to now", Rule: "The current time MUST be before exp (RFC 7519 §4.1.4): exp == now is expired (a clock leeway makes this a SHOULD in mca).",
			Refs: []string{"RFC 7519 §4.1.4"}, Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.ExpiresIn(0))}},
		{ID: "TIM-004", Area: "time", Title: "No exp claim", Rule: "An access token without exp never dies when stolen: it MUST be refused (RFC 9068 §4); SHOULD in mca.",
			Refs: []string{refRFC9068, refSeedVerify}, Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.NoExp())}},
		{ID: "TIM-005", Area: "time", Title: "nbf an hour in the future", Rule: "A token MUST NOT be accepted before its nbf (RFC 7519 §4.1.5) in strict; recorded in mca.",
			Refs: []string{"RFC 7519 §4.1.5"}, Expect: split(exp(Info, Observed), exp(Must, InvalidToken)), Recipe: Tokens{Access: muts(tf.NotYetValid(time.Hour))}},
		{ID: "TIM-006", Area: "time", Title: "iat an hour in the future", Rule: "A token issued in the future is suspicious; what the target does is recorded.",
			Refs: []string{"RFC 7519 §4.1.6"}, Expect: same(Info, Observed), Recipe: Tokens{Access: muts(tf.IssuedIn(time.Hour))}},
		{ID: "TIM-007", Area: "time", Title: "Clock leeway, measured", Rule: "The target's tolerance for expired tokens is measured, not assumed: tokens expired by 1 s to 5 min are sent and the largest accepted is reported.",
			Refs: []string{"RFC 7519 §4.1.4 (small leeway)"}, Expect: same(Info, Observed), Recipe: leewayRecipe()},
		{ID: "TIM-008", Area: "time", Title: "A cached valid token is refused once it expires", Rule: "A token accepted (and cached) while valid MUST be refused once its exp passes: a cache TTL never outlives exp.",
			Refs: []string{refSeedCache, "RFC 7519 §4.1.4"}, Expect: must401i, Recipe: cachedExpiryRecipe()},
		{ID: "TIM-009", Area: "time", Title: "An expired id token with a valid access token", Rule: "The id token's exp is checked like the access token's: an expired id token MUST be refused as invalid_token.",
			Refs: []string{refSeedInvalid, "OIDC Core §3.1.3.7 (10)"}, Expect: must401i, Recipe: Tokens{ID: muts(tf.ExpiredBy(time.Hour))}},
	}
}

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

func idTokenCases() []Case {
	c := func(id, title string, m tf.Mutation) Case {
		return Case{ID: id, Area: "idtoken", Title: title,
			Rule: "A valid access token paired with an invalid id token MUST be refused as invalid_token: the id token is verified like the access token.",
			Refs: []string{refSeedInvalid, "OIDC Core §3.1.3.7"}, Expect: must401i, Recipe: Tokens{ID: muts(m)}}
	}
	return []Case{
		c("IDT-001", "Id token signed by another key", tf.SignedBy(nil)),
		c("IDT-002", "Id token with alg none", tf.AlgNone("none", false)),
		c("IDT-003", "Id token with a bit flipped in the payload", tf.FlipBit(tf.SegPayload)),
		c("IDT-004", "Id token with HS256 keyed with the AZ public key", tf.HS256WithPublicKey(tf.KeyPKCS1PEM)),
		c("IDT-005", "Id token that is not a JWS", tf.SegmentCount(2)),
		{ID: "IDT-006", Area: "idtoken", Title: "Id token of another client", Rule: "The id token MUST belong to the access token's client (sub ends with the access token's prn) in strict; recorded in mca.",
			Refs: []string{"OIDC Core §3.1.3.7", "RFC 8725 §3.12", refSeedCtx}, Expect: split(exp(Info, Observed), exp(Must, InvalidToken)),
			Recipe: Procedure{Doc: "access token of client A with a valid id token of client B", Fn: otherClientIDToken}},
		{ID: "IDT-007", Area: "idtoken", Title: "Access and id token swapped", Rule: "What the target does when the id token comes first is recorded.",
			Refs: []string{refSeedHeader}, Expect: same(Info, Observed),
			Recipe: Tokens{Format: func(a, i string) []string { return []string{"Bearer " + i + " " + a} }, FormatDoc: "Bearer <id> <access>"}},
		{ID: "IDT-008", Area: "idtoken", Title: "Security context exactly as in the id token", Rule: "imf.sub, imf.user, imf.device and imf.application MUST be the id token's, exactly, including non-ASCII text and nested attributes.",
			Refs: []string{refSeedCtx}, Expect: same(Must, Accepted), Recipe: Procedure{Doc: "valid pair whose id token has a non-ASCII display name and nested attributes", Fn: richContext}},
		{ID: "IDT-009", Area: "idtoken", Title: "Security context without an id token", Rule: "Without an id token, imf.sub MUST be the access token's prn and imf.user, imf.device, imf.application MUST be {}.",
			Refs: []string{refSeedCtx}, Expect: same(Must, Accepted), Recipe: Tokens{NoID: true}},
		{ID: "IDT-010", Area: "idtoken", Title: "No context leaks between concurrent requests", Rule: "Under concurrency every request MUST get the security context of its own tokens, never another request's.",
			Refs: []string{refSeedCtx, refProtected}, Expect: same(Must, Accepted), Recipe: Procedure{Doc: "24 concurrent requests, each with its own client and user", Fn: concurrentContexts}},
		{ID: "IDT-011", Area: "idtoken", Title: "Id token without exp", Rule: "An id token without exp MUST be refused in strict (OIDC Core §2: exp is REQUIRED); SHOULD in mca.",
			Refs: []string{"OIDC Core §2", refRFC9068}, Expect: split(exp(Should, InvalidToken), exp(Must, InvalidToken)), Recipe: Tokens{ID: muts(tf.NoExp())}},
	}
}

// bindAttacker replaces the nil attacker key of the catalogue's mutations
// with the run's attacker key.
func bindAttacker(ms []tf.Mutation, e *Env) []tf.Mutation {
	out := make([]tf.Mutation, len(ms))
	for i, m := range ms {
		switch {
		case m.Name == "signed-by-other-key":
			out[i] = tf.SignedBy(e.AttackerKey())
		case strings.HasPrefix(m.Name, "embedded-key/"):
			out[i] = tf.EmbeddedKey(strings.TrimPrefix(m.Name, "embedded-key/"), e.AttackerKey())
		default:
			out[i] = m
		}
	}
	return out
}
