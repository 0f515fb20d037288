// Package facebook stands in for the Facebook Graph API as the AZ uses it
// for the wl_facebookRealm, and holds Verify, the AZ-side token check.
//
// Tokens are opaque (32 random bytes, unpadded base64url), issued to
// simulated devices with Server.IssueToken or POST /admin/tokens, and live
// until their expiry by the injected clock or until Revoke. A token issued
// for another app id is a wrong-app token: debug_token reports it valid but
// with that other app_id, and Verify rejects it.
//
// # Graph routes (an optional /vN.N version prefix is accepted)
//
//	GET /debug_token?input_token=T&access_token=<appId>|<appSecret>
//	    200 {"data": {"app_id", "type", "application", "is_valid", "user_id", "expires_at", "issued_at", "scopes", "error"?: {"code": 190, "subcode"?, "message"}}}
//	    400 {"error": {"message", "type": "OAuthException", "code"}} when the
//	        app token does not match a registered app (190), is missing (104),
//	        or input_token is missing (100).
//	GET /me?access_token=T&fields=id,name,email
//	    200 {"id", "name", "email"?} (default fields id,name)
//	    400 {"error": {"message", "type": "OAuthException", "code": 190, "error_subcode"}}
//	        for unknown, expired (subcode 463) or revoked (460) tokens; code
//	        2500 without a token.
//
// # Admin API (never affected by faults)
//
//	POST /admin/apps    {"id", "secret"}                      register an app
//	POST /admin/tokens  {"appId", "user": {"id", "name", "email"}, "ttlSeconds"?}
//	                    → {"accessToken", "expiresAt"}
//	POST /admin/revoke  {"token"} → {"revoked": bool}
//	GET  /admin/stats   → Stats
//	GET|PUT /admin/fault  idp.Fault: {"status": 500} | {"hang": true} | {}
package facebook
