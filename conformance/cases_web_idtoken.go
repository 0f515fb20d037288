package conformance

import (
	"context"
	"fmt"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// The web family's id token (WEB-2xx), anchored on the OpenID Foundation's
// rp-id_token-* tests: the AZ's token endpoint answers an id token broken
// one way, and the sign-in must be refused.
func webIDTokenCases() []Case {
	return []Case{
		idTokenCase(fakeaz.WebIDTokenForged, Case{ID: "WEB-201", Title: "An id token signed by another key is refused",
			Rule: "An id token whose RS256 signature was made by a key the AZ never published MUST be refused.",
			Refs: []string{"OIDC Core §3.1.3.7 item 6 (OIDF RP test rp-id_token-bad-sig-rs256)"}}),
		idTokenCase(fakeaz.WebIDTokenAlgNone, Case{ID: "WEB-202", Title: "An unsigned id token (alg none) is refused",
			Rule: "An id token with alg none MUST be refused (the client never registered for unsigned id tokens).",
			Refs: []string{"OIDC Core §3.1.3.7 item 7 (OIDF RP test rp-id_token-sig-none, which this client must refuse)", "RFC 8725 §3.1 (algorithm verification)"}}),
		idTokenCase(fakeaz.WebIDTokenHS256, Case{ID: "WEB-203", Title: "An id token HMAC-signed with the AZ's public key is refused",
			Rule: "An id token with alg HS256 whose HMAC key is the AZ's public key MUST be refused (algorithm confusion).",
			Refs: []string{"RFC 8725 §2.1 (weak signatures and algorithm confusion)", "OIDC Core §3.1.3.7 item 8 (OIDF RP test rp-id_token-bad-sig-hs256)"}}),
		idTokenCase(fakeaz.WebIDTokenWrongIss, Case{ID: "WEB-204", Title: "An id token from another issuer is refused",
			Rule: "An id token whose iss is not the AZ (MCA_SERVER_URL) MUST be refused.",
			Refs: []string{"OIDC Core §3.1.3.7 item 2 (OIDF RP test rp-id_token-issuer-mismatch)"}}),
		idTokenCase(fakeaz.WebIDTokenWrongAud, Case{ID: "WEB-205", Title: "An id token for another audience is refused",
			Rule: "An id token whose aud is not the app id MUST be refused.",
			Refs: []string{"OIDC Core §3.1.3.7 item 3 (OIDF RP test rp-id_token-aud)"}}),
		idTokenCase(fakeaz.WebIDTokenNoSub, Case{ID: "WEB-206", Title: "An id token without sub is refused",
			Rule: "An id token without sub MUST be refused: there is nobody to sign in.",
			Refs: []string{refIDTClaims + " (OIDF RP test rp-id_token-sub)"}}),
		idTokenCase(fakeaz.WebIDTokenNoIat, Case{ID: "WEB-207", Title: "An id token without iat is refused",
			Rule: "An id token without iat MUST be refused.",
			Refs: []string{refIDTClaims + " (OIDF RP test rp-id_token-iat)", "OIDC Core §3.1.3.7 item 10 (iat)"}}),
		idTokenCase(fakeaz.WebIDTokenExpired, Case{ID: "WEB-208", Title: "An expired id token is refused",
			Rule: "An id token whose exp passed (an hour ago) MUST be refused.",
			Refs: []string{"OIDC Core §3.1.3.7 item 9 (exp)"}}),
		idTokenCase(fakeaz.WebIDTokenNoExp, Case{ID: "WEB-209", Title: "An id token without exp is refused",
			Rule: "An id token without exp MUST be refused: it would never expire.",
			Refs: []string{refIDTClaims, "OIDC Core §3.1.3.7 item 9 (exp)"}}),
		idTokenCase(fakeaz.WebIDTokenWrongNonce, Case{ID: "WEB-210", Title: "An id token with another nonce is refused",
			Rule: "An id token whose nonce is not the one of the authorization request MUST be refused (when the target sent a nonce).",
			Refs: []string{refNonce}}),
		idTokenCase(fakeaz.WebIDTokenUnknownKid, Case{ID: "WEB-211", Title: "An id token naming an unknown key is refused",
			Rule: "An id token whose kid names no key of the AZ, signed by that unknown key, MUST be refused.",
			Refs: []string{"OIDC Core §10.1.1 (signing keys: kid)", "OIDC Core §3.1.3.7 item 6"}}),
		idTokenCase(fakeaz.WebIDTokenBadSig, Case{ID: "WEB-212", Title: "An id token with a damaged signature is refused",
			Rule: "An id token whose RS256 signature has one bit flipped MUST be refused.",
			Refs: []string{"OIDC Core §3.1.3.7 item 6 (OIDF RP test rp-id_token-bad-sig-rs256)"}}),
	}
}

// webKeyRotationCases run last: once the key is rotated, a target that does
// not follow it can sign nobody in, and every later case would fail for that.
func webKeyRotationCases() []Case {
	return []Case{
		{ID: "WEB-213", Area: "web", Title: "A rotated AZ key is followed",
			Rule: "After the AZ rotates its signing key, the next sign-in (id token signed by the new key) MUST succeed.",
			Refs: []string{refKeyRotation + " (OIDF RP test rp-key-rotation-op-sign-key)"}, Expect: same(Must, kit.Accepted), Needs: []Need{NeedAZControl}, Families: webFamily,
			Recipe: kit.Procedure{Doc: "a browser signs in (the target learns the key); the AZ rotates the app's key (the old one retired at once); a second browser signs in", Fn: keyRotationFollowed}},
	}
}

// idTokenCase completes c, a case whose AZ token endpoint answers an id
// token broken as fault: the sign-in must be refused, for the reasons in
// c.Refs and OIDC Core's ID token validation.
func idTokenCase(fault string, c Case) Case {
	c.Refs = append(c.Refs, refIDTValid)
	c.Recipe = kit.Procedure{
		Doc: "the AZ's token endpoint answers an id token broken as " + fault + " (fakeaz web scenario idTokenFault); the browser signs in; the callback must be refused and the browser not signed in",
		Fn:  scenarioSignIn(fakeaz.WebScenario{IDTokenFault: fault}, nil),
	}
	return refusedSignIn(c)
}

func keyRotationFollowed(ctx context.Context, e *kit.Env) error {
	first, err := e.NewBrowser("first", "victim")
	if err != nil {
		return err
	}
	if _, ok, err := webSignedIn(ctx, e, first, "/web/protected"); !ok {
		return err
	}
	if err := e.AZ().RotateKey(e.Kit().HomeAppID, 0); err != nil {
		return fmt.Errorf("%w: rotate the key: %w", kit.ErrSetup, err)
	}
	second, err := e.NewBrowser("second", "victim")
	if err != nil {
		return err
	}
	_, _, err = webSignedIn(ctx, e, second, "/web/protected")
	return err
}
