package conformance

import (
	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

// structure cases are all "an invalid token is refused with invalid_token".
func structureCases() []Case {
	c := refusedAccess("structure")
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
			Refs: []string{refRFC7519}, Expect: split(exp(Info, kit.Observed), exp(Should, kit.InvalidToken)),
			Recipe: kit.Tokens{Access: muts(tf.RetypeClaim("iat", tf.TypeString))}},
		Case{ID: "STR-030", Families: mcaOnly, Area: "structure", Title: "Access token without prn",
			Rule: "An MCA access token names its client in prn; without it the request has no subject and MUST be refused. (App ID tokens carry no prn: removing it would leave a valid token, so the case is MCA's.)",
			Refs: []string{refSeedCtx, "RFC 7519 §4.1.2 (sub: the principal the token is about)"}, Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)),
			Recipe: kit.Tokens{NoID: true, Access: muts(tf.WithoutClaim("prn"))}},
		c("STR-031", "A second JSON object after the payload's", "The payload MUST be exactly one JSON object (RFC 7519 §7.2 step 10): bytes after it (here a second object with another aud) MUST make the token invalid, not be ignored.", []string{"RFC 7519 §7.2", "RFC 8259 §2"}, tf.JSONFraming(tf.FramingTrailing)),
		c("STR-032", "Payload starting with a UTF-8 byte order mark", "A JWT payload is UTF-8 JSON without a byte order mark (RFC 8259 §8.1: implementations MUST NOT add one); the AZ never sends one, so a payload starting with EF BB BF MUST be refused.", []string{"RFC 8259 §8.1", "RFC 7519 §7.2"}, tf.JSONFraming(tf.FramingBOM)),
	)
	return out
}
