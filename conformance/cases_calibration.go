package conformance

// CalibrationIDs returns the cases that must pass before any other runs
// (a new slice on each call): if the valid token is refused or garbage
// accepted, the run is invalid.
func CalibrationIDs() []string { return []string{"CAL-001", "CAL-002", "CAL-003"} }

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
