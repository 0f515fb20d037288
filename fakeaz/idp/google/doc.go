// Package google stands in for Google's token verification as the AZ uses
// it for the wl_googleRealm, and holds Verify, the AZ-side token check.
//
// Id tokens (what the iOS SDK sends as {"idToken": ...}) are RS256 JWTs
// signed by the stand-in's own key, header {"alg": "RS256", "kid"}, claims
// iss "https://accounts.google.com", aud and azp = the client id they were
// issued for, sub, email, email_verified, name, iat, exp. Access tokens
// (what the Android SDK sends as {"accessToken": ...}) are opaque,
// "ya29." + 32 random bytes in unpadded base64url. Both are issued with
// IssueIDToken / IssueAccessToken or POST /admin/tokens, expire by the
// injected clock and can be revoked (an id token then fails tokeninfo,
// which real Google cannot do).
//
// # Google routes
//
//	GET|POST /tokeninfo?id_token=T       (also /oauth2/v3/tokeninfo)
//	    200 {"iss", "azp", "aud", "sub", "email", "email_verified", "name", "iat", "exp", "alg", "kid", "typ"}
//	        (numbers as decimal strings, as Google does)
//	GET|POST /tokeninfo?access_token=T
//	    200 {"azp", "aud", "sub", "scope", "exp", "expires_in", "email", "email_verified", "access_type"}
//	    400 {"error": "invalid_token", "error_description": "Invalid Value" | "Token expired" | "Token has been revoked"}
//	    400 {"error": "invalid_request"} with neither or both parameters.
//	GET  /oauth2/v3/certs          JWKS: {"keys": [{"kty", "alg", "use", "kid", "n", "e"}]}
//	POST /revoke  token=T (form)   200 {} or 400 invalid_token
//
// # Admin API (never affected by faults)
//
//	POST /admin/tokens  {"kind": "id_token"|"access_token", "clientId", "user": {"sub", "email", "name"}, "ttlSeconds"?}
//	                    → {"idToken"|"accessToken", "expiresAt"}
//	POST /admin/revoke  {"token"} → {"revoked": bool}
//	GET  /admin/stats   → Stats
//	GET|PUT /admin/fault  idp.Fault: {"status": 500} | {"hang": true} | {}
package google
