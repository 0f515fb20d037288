package mutants

import (
	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/reference/webrp"
)

// Web returns the mutants of the reference web RP (reference/webrp), each
// with one hole of a website's sign-in, run against the web family.
func Web() []Mutant {
	web := func(name, bug string, intended []string, f func(*webrp.Config)) Mutant {
		return Mutant{Name: name, Bug: bug, Intended: intended, Family: kit.FamilyWeb, Web: f}
	}
	ids := func(xs ...string) []string { return xs }
	return []Mutant{
		web("web-no-csrf-protection", "no state check, no PKCE, no nonce: a callback from anyone signs the browser in", ids("WEB-101", "WEB-102", "WEB-104"),
			func(c *webrp.Config) { c.InsecureSkipState, c.InsecureNoPKCE, c.InsecureNoNonce = true, true, true }),
		web("web-no-state-check", "the callback's state is not checked (PKCE still on)", ids("WEB-101", "WEB-102", "WEB-103"),
			func(c *webrp.Config) { c.InsecureSkipState = true }),
		web("web-no-state", "no state is sent, and the callback checks none (PKCE still on)", ids("WEB-001", "WEB-002", "WEB-101", "WEB-102"),
			func(c *webrp.Config) { c.InsecureNoState, c.InsecureSkipState = true, true }),
		web("web-weak-state", "the state holds 32 random bits", ids("WEB-002"), func(c *webrp.Config) { c.InsecureWeakState = true }),
		web("web-no-nonce", "no nonce is sent nor checked", ids("WEB-003"), func(c *webrp.Config) { c.InsecureNoNonce = true }),
		web("web-no-pkce", "no PKCE", ids("WEB-004"), func(c *webrp.Config) { c.InsecureNoPKCE = true }),
		web("web-no-signature-check", "the id token's signature is never verified (any alg)", ids("WEB-201", "WEB-202", "WEB-203", "WEB-211", "WEB-212"),
			func(c *webrp.Config) { c.InsecureSkipSignature = true }),
		web("web-no-aud-check", "the id token's aud is not compared with the app id", ids("WEB-205"), func(c *webrp.Config) { c.InsecureSkipAudience = true }),
		web("web-no-iss-check", "the id token's iss is not compared with the AZ", ids("WEB-204"), func(c *webrp.Config) { c.InsecureSkipIssuer = true }),
		web("web-optional-claims", "an id token without sub or iat is accepted", ids("WEB-206", "WEB-207"), func(c *webrp.Config) { c.InsecureOptionalClaims = true }),
		web("web-no-nonce-check", "the id token's nonce is not compared", ids("WEB-210"), func(c *webrp.Config) { c.InsecureSkipNonce = true }),
		web("web-no-expiry", "exp is not checked and a session lasts a day", ids("WEB-208", "WEB-209", "WEB-302"), func(c *webrp.Config) { c.InsecureSkipExpiry = true }),
		web("web-no-key-refresh", "the AZ key is fetched once and never again (rotation breaks sign-in)", ids("WEB-213"), func(c *webrp.Config) { c.InsecureNoKeyRefresh = true }),
		web("web-open-redirect", "the page to return to is the path below /web/protected, sent as the Location as is (a mounted sub-app's req.url)", ids("WEB-401", "WEB-402", "WEB-403"),
			func(c *webrp.Config) { c.InsecureOpenRedirect = true }),
		web("web-no-session-rotation", "the session id is kept at sign-in (fixation)", ids("WEB-301"), func(c *webrp.Config) { c.InsecureKeepSessionID = true }),
		web("web-logout-keeps-session", "logout clears the cookie but keeps the session on the server", ids("WEB-303"), func(c *webrp.Config) { c.InsecureLogoutKeepsSession = true }),
		web("web-unbounded-token-wait", "the token request has no deadline: a hanging AZ hangs the callback", ids("WEB-504"), func(c *webrp.Config) { c.InsecureNoTokenTimeout = true }),
		web("web-crash-on-bad-token-response", "a token response without id_token panics (the request dies without an answer)", ids("WEB-503"),
			func(c *webrp.Config) { c.InsecurePanicOnTokenResponse = true }),
		web("web-mounted-return-path", "the page to return to is the decoded req.url of a router mounted at /web/protected/ (the prefix cut with its slash), sent as is", ids("WEB-404", "WEB-405"),
			func(c *webrp.Config) { c.InsecureMountedReturnPath = true }),
		web("web-forgets-return-path", "after the sign-in the browser is always sent to /web/protected, not to the page it asked for", ids("WEB-406"),
			func(c *webrp.Config) { c.InsecureForgetReturnPath = true }),
		web("web-malformed-callback-as-500", "the callback's values are decoded once more, strictly, and one that does not decode, is not UTF-8 or is over 2 KiB is a 500 (decodeURIComponent's URIError)", ids("WEB-108", "WEB-109", "WEB-110", "WEB-111"),
			func(c *webrp.Config) { c.InsecureMalformedAs500 = true }),
		web("web-first-code-wins", "a repeated code or state is not refused: the first value is used", ids("WEB-112"),
			func(c *webrp.Config) { c.InsecureFirstParamWins = true }),
		web("web-redeems-without-code", "a callback without a code is still sent to the token endpoint (a client-authenticated request on anyone's say-so)", ids("WEB-506"),
			func(c *webrp.Config) { c.InsecureRedeemWithoutCode = true }),
		web("web-raw-redirect-uri", "the callback URL is pasted into the authorization request as is (as MCAWebSiteStrategy does): a query string of its own is cut at its first &", ids("WEB-006"),
			func(c *webrp.Config) { c.InsecureRawRedirectURI = true }),
		{Name: "web-errors-as-500", Bug: "every 4xx of the website becomes a 500 (a refused sign-in looks like a crash)", Family: kit.FamilyWeb, Profile: conformance.Strict,
			Intended: ids("WEB-105", "WEB-106", "WEB-107", "WEB-501", "WEB-502", "WEB-503", "WEB-504", "WEB-505"), Wrap: errorsAs500},
	}
}

// webNoMutant says why some web cases catch no mutant.
func webNoMutant() map[string]string {
	const cal = "calibration of the web family: every web mutant must pass it, or none of the other web cases could run"
	return map[string]string{
		"CAL-101": cal,
		"CAL-102": cal,
		"CAL-103": cal + " (a made-up code is refused by the AZ whatever the RP checks)",
		"WEB-005": "a website that sends another client_id or redirect_uri cannot sign anyone in (the AZ refuses the request: a 400 page), so calibration (CAL-102) fails first; the case names what is wrong",
	}
}
