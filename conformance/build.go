package conformance

import "github.com/mcaspec/mcaspec/tokenfactory"

// Helpers that keep the catalogue readable.

// same gives both profiles one expectation.
func same(l Level, outs ...Outcome) map[Profile]Expect {
	return map[Profile]Expect{MCA: {l, outs}, Strict: {l, outs}}
}

// split gives each profile its own expectation.
func split(mca, strict Expect) map[Profile]Expect {
	return map[Profile]Expect{MCA: mca, Strict: strict}
}

func exp(l Level, outs ...Outcome) Expect { return Expect{l, outs} }

// mcaOnly marks cases that rely on the MCA token shape (string aud, MCA
// service tokens); App ID tokens carry aud as an array.
var mcaOnly = []Family{FamilyMCA}

// must401i: an invalid token, refused with invalid_token in every profile.
var must401i = same(Must, InvalidToken)

func muts(ms ...tokenfactory.Mutation) []tokenfactory.Mutation { return ms }

// Frequently cited references.
const (
	refSeedHeader  = "seed README (bms-mca-token-validation-strategy 2.0.11): header must be 'Bearer <access> [<id>]', anything else 400"
	refSeedNoAuth  = "seed README: no Authorization header -> 401, WWW-Authenticate: Bearer realm=\"imfAuthentication\""
	refSeedInvalid = "seed README: invalid access or id token -> 401 ... error=\"invalid_token\""
	refSeedCtx     = "seed README: security context {imf.sub, imf.user, imf.device, imf.application}"
	refSeedCache   = "seed README: validated contexts, rejected tokens and the public key are cached (cacheSize)"
	refSeedProp    = "seed README (bms-mca-oauth-sdk): getAuthorizationHeaderFromIncomingRequest / getAuthorizationHeader"
	refRFC6750s2   = "RFC 6750 §2.1 (b64token syntax)"
	refRFC6750s3   = "RFC 6750 §3.1 (error codes)"
	refRFC7515     = "RFC 7515 §7.1, §5.2 (compact serialization, base64url without padding)"
	refRFC7519     = "RFC 7519 §4.1 (registered claims, NumericDate)"
	refRFC8725s2   = "RFC 8725 §2.1, §3.1 (algorithm verification)"
	refRFC8725s33  = "RFC 8725 §3.3 (validate all cryptographic operations)"
	refRFC9068     = "RFC 9068 §4 (exp, aud, iss MUST be validated)"
	refCases       = "shared/cases.md"
)
