package conformance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/fakedevice"
	tf "github.com/mcaspec/mcaspec/tokenfactory"
)

// headerSchemeCase is a case sending a valid access token under scheme s, not Bearer.
func headerSchemeCase(id, s string) Case {
	return Case{ID: id, Area: "header", Title: fmt.Sprintf("%s scheme is not Bearer", s),
		Rule:   fmt.Sprintf("An Authorization header with the %s scheme carries no bearer token: it SHOULD get a bare Bearer challenge (RFC 6750 §3.1); the seed strategy answers 400.", s),
		Refs:   []string{refSeedHeader, refRFC6750s3},
		Expect: split(exp(Should, kit.BadRequest), exp(Should, kit.BareChallenge)),
		Recipe: kit.Tokens{Format: func(a, _ string) []string { return []string{s + " " + a} }, FormatDoc: s + " <access>"}}
}

// headerBadSyntaxCase is a case sending the Bearer header f makes, which is malformed as doc shows.
func headerBadSyntaxCase(id, title, doc string, f func(a, i string) []string) Case {
	return Case{ID: id, Area: "header", Title: title,
		Rule:   "A Bearer header that does not match 'Bearer <b64token> [<b64token>]' MUST be refused with 400 (strict: error=\"invalid_request\"), never a 5xx.",
		Refs:   []string{refSeedHeader, refRFC6750s2, refRFC6750s3},
		Expect: split(exp(Must, kit.BadRequest), exp(Must, kit.InvalidRequest)),
		Recipe: kit.Tokens{Format: f, FormatDoc: doc}}
}

// headerCaseInsensitiveCase is a case sending a valid pair under the scheme spelled s.
func headerCaseInsensitiveCase(id, s string) Case {
	return Case{ID: id, Area: "header", Title: fmt.Sprintf("Scheme spelled %q with valid tokens", s),
		Rule:   "Authentication schemes are case-insensitive (RFC 9110 §11.1): a valid pair under '" + s + "' SHOULD be accepted; the seed strategy may answer 400.",
		Refs:   []string{"RFC 9110 §11.1", refSeedHeader},
		Expect: split(exp(Must, kit.BadRequest, kit.Accepted), exp(Should, kit.Accepted)),
		Recipe: kit.Tokens{Format: func(a, i string) []string { return []string{s + " " + a + " " + i} }, FormatDoc: s + " <access> <id>"}}
}

// headerSpacingCase is a case sending a valid pair with its parts separated by sep.
func headerSpacingCase(id, title, doc, sep string) Case {
	return Case{ID: id, Area: "header", Title: title,
		Rule:   "Parts separated by any run of spaces or tabs MUST be accepted (the seed strategy splits on whitespace); informational in strict.",
		Refs:   []string{refSeedHeader},
		Expect: split(exp(Must, kit.Accepted), exp(Info, kit.Observed)),
		Recipe: kit.Tokens{Format: func(a, i string) []string { return []string{"Bearer" + sep + a + sep + i} }, FormatDoc: doc}}
}

// headerCases is the catalogue's header area, in ID order.
func headerCases() []Case {
	return []Case{
		{ID: "HDR-001", Area: "header", Title: "No Authorization header",
			Rule: "A request without an Authorization header MUST get 401 with a bare Bearer challenge (realm=\"imfAuthentication\", no error code).",
			Refs: []string{refSeedNoAuth, refRFC6750s3}, Expect: same(Must, kit.BareChallenge),
			Recipe: kit.Tokens{Format: fixed(), FormatDoc: "no Authorization header"}},
		headerSchemeCase("HDR-002", "Basic"),
		headerSchemeCase("HDR-003", "Token"),
		headerSchemeCase("HDR-004", "MAC"),
		headerBadSyntaxCase("HDR-005", "Bearer with nothing after it", "Bearer", func(_, _ string) []string { return []string{"Bearer"} }),
		headerBadSyntaxCase("HDR-006", "Bearer followed by spaces only", "'Bearer   '", func(_, _ string) []string { return []string{"Bearer   "} }),
		headerBadSyntaxCase("HDR-007", "Three tokens", "Bearer <access> <id> <access>", func(a, i string) []string { return []string{"Bearer " + a + " " + i + " " + a} }),
		headerBadSyntaxCase("HDR-008", "A token wrapped in double quotes", `Bearer "<access>"`, func(a, _ string) []string { return []string{`Bearer "` + a + `"`} }),
		headerBadSyntaxCase("HDR-009", "A token containing '{'", "Bearer {<access>", func(a, _ string) []string { return []string{"Bearer {" + a} }),
		headerBadSyntaxCase("HDR-010", "A token containing a comma", "Bearer <access>,<id>", func(a, i string) []string { return []string{"Bearer " + a + "," + i} }),
		headerBadSyntaxCase("HDR-011", "A token with non-ASCII characters", "Bearer <access>é", func(a, _ string) []string { return []string{"Bearer " + a + "é"} }),
		{ID: "HDR-012", Area: "header", Title: "A carriage return inside a token",
			Rule:   "A bare CR inside a token MUST be refused with a 4xx, never a 5xx or a hang (whether the HTTP layer rejects it or replaces it with a space, RFC 9110 §5.5).",
			Refs:   []string{"RFC 9110 §5.5", refSeedHeader},
			Expect: same(Must, kit.Rejected),
			Recipe: rawHeaderRecipe("Authorization: Bearer <first half of access>\\r<second half> <id>", func(a, i string) string { return "Bearer " + a[:len(a)/2] + "\r" + a[len(a)/2:] + " " + i })},
		headerCaseInsensitiveCase("HDR-013", "bearer"),
		headerCaseInsensitiveCase("HDR-014", "BEARER"),
		headerSpacingCase("HDR-015", "Several spaces between the parts", "'Bearer  <access>   <id>'", "   "),
		headerSpacingCase("HDR-016", "Tabs between the parts", "'Bearer\\t<access>\\t<id>'", "\t"),
		{ID: "HDR-017", Area: "header", Title: "Two Authorization headers",
			Rule:   "A request with two Authorization header lines is ambiguous and SHOULD be refused with 400 (strict); recorded in mca.",
			Refs:   []string{"RFC 9110 §5.3 (a sender MUST NOT generate multiple Authorization fields)", refRFC6750s3},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.BadRequest, kit.InvalidRequest)),
			Recipe: kit.Tokens{Format: func(a, i string) []string { return []string{"Bearer " + a + " " + i, "Bearer " + a} }, FormatDoc: "two Authorization lines, both valid"}},
		{ID: "HDR-018", Area: "header", Title: "Token in the header and in the access_token query parameter",
			Rule:   "Clients MUST NOT use more than one method to send the token (RFC 6750 §2); such a request SHOULD be refused with 400 (strict); recorded in mca.",
			Refs:   []string{"RFC 6750 §2, §2.3", refRFC6750s3},
			Expect: split(exp(Info, kit.Observed), exp(Should, kit.BadRequest, kit.InvalidRequest)),
			Recipe: kit.Tokens{Query: func(a string) string { return "?access_token=" + a }, FormatDoc: "Bearer <access> <id> plus ?access_token=<access>"}},
		{ID: "HDR-019", Area: "header", Title: "A 90 KiB Authorization header",
			Rule:   "A very large header (a validly signed token with a 64 KiB claim) MUST be refused with a 4xx quickly, without a crash.",
			Refs:   []string{refHygiene, "RFC 6585 §5 (431)"},
			Expect: same(Must, kit.Rejected),
			Recipe: kit.Tokens{Access: muts(tf.Oversized(64 << 10))}},
		{ID: "HDR-020", Area: "header", Title: "An empty Authorization header",
			Rule:   "An empty Authorization value carries no credentials: it MUST get 401 with a bare challenge or 400, never 200 or a 5xx.",
			Refs:   []string{refSeedNoAuth, refRFC6750s3},
			Expect: split(exp(Must, kit.BareChallenge, kit.BadRequest), exp(Must, kit.BareChallenge, kit.InvalidRequest)),
			Recipe: kit.Tokens{Format: fixed(""), FormatDoc: "Authorization: (empty)"}},
		{ID: "HDR-021", Area: "header", Title: "Tokens separated by an obsolete line fold",
			Rule:   "An obs-fold between the tokens may be rejected (400) or unfolded into a space (RFC 9112 §5.2); what the target does is recorded.",
			Refs:   []string{"RFC 9112 §5.2 (obs-fold)"},
			Expect: same(Info, kit.Observed),
			Recipe: rawHeaderRecipe("Authorization: Bearer <access>\\r\\n <id> (obsolete line folding)", func(a, i string) string { return "Bearer " + a + "\r\n " + i })},
		{ID: "HDR-022", Families: mcaOnly, Area: "header", Title: "Refusals carry a challenge the real SDKs recognise",
			Rule: "Every refusal a device can recover from by authorizing again (a missing, expired or badly signed token) MUST be a 401 or 403 whose challenge the IBM client SDKs recognise by their exact rule: Android reads the first WWW-Authenticate value, which must start with \"bearer\" and contain \"imfauthentication\" with the double quotes (case-insensitive); iOS needs \"bearer\" and the quoted realm anywhere. Bearer realm=imfAuthentication (unquoted) strands every real device.",
			Refs: []string{
				"https://github.com/ibm-bluemix-mobile-services/bms-clientsdk-android-core/blob/ad41b7195e6b5e8930142b080d5d494ce24b5755/lib/src/main/java/com/ibm/mobilefirstplatform/clientsdk/android/security/mca/internal/AuthorizationHeaderHelper.java#L72-L85",
				"https://github.com/ibm-bluemix-mobile-services/bms-clientsdk-android-core/blob/ad41b7195e6b5e8930142b080d5d494ce24b5755/lib/src/main/java/com/ibm/mobilefirstplatform/clientsdk/android/security/mca/api/MCAAuthorizationManager.java#L164-L172",
				"https://github.com/ibm-bluemix-mobile-services/bms-clientsdk-swift-security/blob/c26988a7f5de338c1d9e0d43a64c2b6db33be541/Source/mca/api/MCAAuthorizationManager.swift#L154-L163",
				refSeedNoAuth},
			Expect: same(Must, kit.Rejected),
			Recipe: kit.Procedure{Doc: "three refusals a device recovers from: no Authorization header, an expired pair, a pair whose access token signature has a flipped bit; each judged by fakedevice.IsAuthChallengeForAll", Fn: sdkChallenges}},
	}
}

// sdkChallenges sends the refusals a device recovers from and checks each
// with the real SDKs' rule (fakedevice.IsAuthChallenge per platform).
func sdkChallenges(ctx context.Context, e *kit.Env) error {
	app, err := e.NewApp(ctx)
	if err != nil {
		return err
	}
	expired, err := app.Mint(true, muts(tf.ExpiredBy(time.Hour)), nil)
	if err != nil {
		return err
	}
	badSig, err := app.Mint(true, muts(tf.FlipBit(tf.SegSignature)), nil)
	if err != nil {
		return err
	}
	xs := []kit.Exchange{
		e.Protected(ctx, "no Authorization header", app.ID),
		e.Protected(ctx, "expired pair", app.ID, expired.Header()),
		e.Protected(ctx, "bad signature", app.ID, badSig.Header()),
	}
	obs := e.Observation()
	for _, x := range xs {
		ch := x.Header.Values("WWW-Authenticate")
		if fakedevice.IsAuthChallengeForAll(x.Status, ch) {
			continue
		}
		var stranded []string
		for _, pf := range []fakedevice.Platform{fakedevice.PlatformAndroid, fakedevice.PlatformIOS} {
			if !fakedevice.IsAuthChallenge(pf, x.Status, ch) {
				stranded = append(stranded, string(pf))
			}
		}
		obs.Failf("%s: %d with WWW-Authenticate %q: not recognised as an authorization challenge by %s (401/403, Bearer, realm=\"imfAuthentication\" quoted)", x.Step, x.Status, ch, strings.Join(stranded, " and "))
	}
	return nil
}

func rawHeaderRecipe(doc string, value func(a, i string) string) kit.Recipe {
	return kit.Procedure{Doc: doc, Fn: func(ctx context.Context, e *kit.Env) error {
		app, p, err := kit.FreshPair(ctx, e, true)
		if err != nil {
			return err
		}
		e.Raw(ctx, "raw request", "/v1/apps/"+app.ID+"/protected", "Authorization: "+value(p.Access, p.ID))
		return nil
	}}
}
