package conformance

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

func signatureCases() []Case {
	c := refusedAccess("signature")
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
	hs256 := func(id string, form tf.KeyForm) Case {
		return c(id, "HS256 keyed with the AZ public key as "+string(form), algRule+" HS256 keyed with the public key is the classic key-confusion forgery.", []string{refRFC8725s2, "CVE-2015-9235 (jsonwebtoken key confusion)"}, tf.HS256WithPublicKey(form))
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
		Case{ID: "SIG-031", Area: "signature", Title: "crit names an unknown extension",
			Rule:   "A JWS whose crit lists an extension the recipient does not understand MUST be rejected (RFC 7515 §4.1.11), even with a valid signature; MUST in strict, SHOULD in mca (the seed strategy never read crit).",
			Refs:   []string{"RFC 7515 §4.1.11", refSeedInvalid},
			Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)),
			Recipe: kit.Tokens{Access: muts(tf.CritUnknown())}},
		Case{ID: "SIG-032", Area: "signature", Title: "b64: false listed in crit",
			Rule:   "An unencoded-payload JWS (RFC 7797: b64 false, listed in crit) is an extension MCA validators do not implement: it MUST be rejected (RFC 7515 §4.1.11, RFC 7797 §6), never read as an ordinary token; MUST in strict, SHOULD in mca.",
			Refs:   []string{"RFC 7797 §3, §6", "RFC 7515 §4.1.11"},
			Expect: split(exp(Should, kit.InvalidToken), exp(Must, kit.InvalidToken)),
			Recipe: kit.Tokens{Access: muts(tf.B64False(true))}},
		Case{ID: "SIG-033", Area: "signature", Title: "b64: false without crit",
			Rule:   "A header with b64 false but no crit is malformed (RFC 7797 §6: b64 MUST be in crit); a validator that ignores it reads a payload its issuer declared unencoded. It SHOULD be refused (strict); recorded in mca.",
			Refs:   []string{"RFC 7797 §6", "RFC 8725 §3.1 (reject what is not expected)"},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.InvalidToken)),
			Recipe: kit.Tokens{Access: muts(tf.B64False(false))}},
		Case{ID: "SIG-034", Area: "signature", Title: "zip header on a JWS",
			Rule:   "zip is a JWE parameter (RFC 7516 §4.1.3); the AZ never puts it on a JWS. A token carrying it SHOULD be refused (strict), and a validator MUST NOT inflate a JWS payload (a decompression bomb); recorded in mca.",
			Refs:   []string{"RFC 7516 §4.1.3", "RFC 7515 §4.1 (the JWS header parameters)", "RFC 8725 §3.6 (compression)"},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.InvalidToken)),
			Recipe: kit.Tokens{Access: muts(tf.ZipHeader())}},
	)
	return out
}

func keyURLCase(id string, param tf.KeyURLParam, name string) Case {
	return Case{ID: id, Area: "signature", Title: "Attacker key behind " + string(param),
		Rule:   "Key URLs in the token header (" + string(param) + ") MUST NOT be fetched and the token MUST be refused as invalid_token.",
		Refs:   []string{"RFC 8725 §3.10", "RFC 7515 §4.1.2, §4.1.5", refSeedInvalid},
		Expect: must401i,
		Recipe: kit.Procedure{Doc: "access token signed by the attacker, header " + string(param) + " pointing at the attacker's server (fetches counted)",
			Fn: func(ctx context.Context, e *kit.Env) error {
				u := e.Kit().Attacker.URLFor(strings.ToLower(e.CaseID()) + "/" + name)
				app, p, err := kit.FreshPair(ctx, e, true, tf.KeyURL(param, u, e.AttackerKey()))
				if err != nil {
					return err
				}
				obs := e.Observation()
				obs.Token("access", p.Access)
				e.Protected(ctx, "request", app.ID, p.Header())
				if n := e.Kit().Attacker.Fetches(u); n > 0 {
					obs.Failf("the target fetched the %s URL %s %d time(s)", param, u, n)
				}
				return nil
			}}}
}
