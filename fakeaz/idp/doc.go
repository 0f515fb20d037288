// Package idp holds what the identity-provider simulators of fakeaz share:
// the Identity a provider reports, the errors the provider clients return
// (ErrInvalidToken, ErrUnavailable, ErrProtocol) and the Fault a simulator
// can be told to inject.
//
// The simulators themselves live in the sub-packages:
//
//   - custom: a custom identity provider (startAuthorization /
//     handleChallengeAnswer contract) with users and challenge flows from a
//     Config, and the Client the AZ uses to call any custom IdP.
//   - facebook: a Graph API subset (debug_token, me) that issues opaque user
//     access tokens, and Verify, the AZ-side check.
//   - google: a tokeninfo endpoint and JWKS that issue RS256 id tokens and
//     opaque access tokens, and Verify, the AZ-side check.
//
// Every simulator is an http.Handler with New, Start(addr) (any host:port; off
// loopback the admin API needs WithAdminToken),
// URL, Close, SetFault and Stats, and has a JSON admin API under /admin/ so
// that tests written in other languages can drive it (see README.md).
package idp
