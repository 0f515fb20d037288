// Package custom simulates a custom identity provider of Mobile Client
// Access and holds the Client the AZ uses to call one (the simulator or a
// real one).
//
// # Contract (AZ → IdP)
//
//	POST /apps/{appId}/{realm}/startAuthorization
//	     {"headers": {...client request headers...}}
//	POST /apps/{appId}/{realm}/handleChallengeAnswer
//	     {"headers": {...}, "stateId": "...", "challengeAnswer": <device's answer>}
//
// Both answer 200 with
//
//	{"status": "challenge"|"success"|"failure", "stateId"?, "challenge"?, "userIdentity"?: {"userName", "displayName", "attributes"?}}
//
// # Flows served from Config
//
//   - startAuthorization always answers the realm's first challenge,
//     {"message": "Enter username and password"} (Realm.Message), without a
//     stateId.
//   - An answer {"username", "password"} without a stateId is checked
//     against the realm's users. A user without a PIN gets "success"; a user
//     with a PIN gets a second challenge {"message": "Enter your PIN"} and a
//     fresh stateId; an AlwaysFail user, an unknown user, a wrong password or
//     an answer that is not a JSON object get "failure".
//   - An answer carrying a stateId is the PIN step: {"pin": "..."}. The
//     stateId is single-use (consumed whatever the outcome), lives
//     Config.StateTTLSeconds (default 2 minutes, by the injected clock) and
//     is bound to its app and realm; an unknown, reused, expired or foreign
//     stateId gets "failure".
//
// # Errors
//
//   - 400 {"error": "invalid_request", "error_description"}: the body is not
//     a JSON object, "headers" is missing or not an object, "stateId" is not
//     a string, or handleChallengeAnswer has no "challengeAnswer".
//   - 404 {"error": "not_found"}: realm not configured, or not for this app.
//   - 405: method other than POST.
//
// # Admin API (never affected by faults)
//
//	GET  /admin/stats   → Stats as JSON
//	GET  /admin/fault   → the current idp.Fault
//	PUT  /admin/fault   {"status": 500} | {"hang": true} | {} (clear)
//	GET  /admin/users   → the current Config
//	POST /admin/users   {"realm": "...", "user": {"userName", "password", "displayName", "pin", "alwaysFail", "attributes"}}
package custom
