package conformance

import (
	"context"

	"github.com/mcaspec/mcaspec/conformance/kit"
)

// CalibrationIDs returns the cases that must pass before any other runs
// (a new slice on each call): if the valid token is refused or garbage
// accepted, the run is invalid.
func CalibrationIDs() []string { return []string{"CAL-001", "CAL-002", "CAL-003"} }

func calibrationCases() []Case {
	return []Case{
		{ID: "CAL-001", Area: "calibration", Title: "A valid access and id token pair is accepted",
			Rule: "A valid RS256 access token with its id token, for the app in the URL, MUST be accepted with the security context of the id token.",
			Refs: []string{refSeedCtx, refSeedVerify}, Expect: same(Must, kit.Accepted),
			Recipe: kit.Tokens{}},
		{ID: "CAL-002", Area: "calibration", Title: "A valid access token alone is accepted",
			Rule: "A valid access token without an id token MUST be accepted; imf.sub is the access token's prn and the three objects are {}.",
			Refs: []string{refSeedCtx, refSeedHeader}, Expect: same(Must, kit.Accepted),
			Recipe: kit.Tokens{NoID: true}},
		{ID: "CAL-003", Area: "calibration", Title: "A garbage token is refused",
			Rule: "A token that is not a JWS at all MUST be refused with a 4xx.",
			Refs: []string{refSeedInvalid}, Expect: same(Must, kit.Rejected),
			Recipe: kit.Tokens{Format: fixed("Bearer garbage-not-a-token"), FormatDoc: "Bearer garbage-not-a-token"}},
	}
}

// webCalibrationCases must pass before any other web case runs.
func webCalibrationCases() []Case {
	return []Case{
		webCalibration(Case{ID: "CAL-101", Title: "A signed-out browser is sent to the authorization endpoint",
			Rule:   "GET /web/protected from a signed-out browser MUST redirect to MCA_AUTHORIZATION_ENDPOINT.",
			Expect: same(Must, kit.NotOK),
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/protected; the answer must redirect to the authorization endpoint", Fn: asVictim(calSignInStarts)}}),
		webCalibration(Case{ID: "CAL-102", Title: "A browser signs in and sees its identity",
			Rule:   "A browser that goes through the AZ MUST come back signed in: /web/protected answers 200 {\"user\": {\"sub\": …}} with the id token's sub.",
			Expect: same(Must, kit.Accepted),
			Recipe: kit.Procedure{Doc: "a fresh browser (AZ user victim) opens /web/protected, follows the redirects through the AZ and the callback, then opens /web/protected", Fn: asVictim(calSignsIn)}}),
		webCalibration(Case{ID: "CAL-103", Title: "A made-up callback is refused",
			Rule:   "GET /web/callback with a state and a code the target never issued MUST NOT sign the browser in, and MUST be answered (no 2xx, no hang, no crash).",
			Expect: same(Must, kit.NotOK),
			Recipe: kit.Procedure{Doc: "a fresh browser opens /web/callback?state=<random>&code=<random>", Fn: asVictim(calMadeUpCallback)}}),
	}
}

// webCalibration completes c, a web calibration case: it checks a route of
// the web contract.
func webCalibration(c Case) Case {
	c.Area, c.Refs, c.Families = "calibration", []string{refWebRoutes, refWebContract}, webFamily
	return c
}

func calSignInStarts(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	_, _ = startJudged(ctx, e, b)
	return nil
}

func calSignsIn(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	_, _, err := webSignedIn(ctx, e, b, "/web/protected")
	return err
}

func calMadeUpCallback(ctx context.Context, e *kit.Env, b *kit.Browser) error {
	b.Visit(ctx, "callback", b.Target("/web/callback?state="+randomToken()+"&code="+randomToken()))
	e.Observation().Judge()
	notSignedIn(ctx, e, b, "")
	return nil
}
