// Package fakeaz is a fake Mobile Client Access (MCA / IMF) authorization
// server: device registration, the WL-Composite-Challenge authorization step
// (anonymous, custom IdP, Facebook and Google realms through the simulators
// in fakeaz/idp), the token endpoint (authorization_code with proof of the
// device key, client_credentials), per-app signing keys (publickey, JWKS,
// OIDC discovery), and scenario controls for conformance and load tests:
// key rotation, faults per endpoint and app (status, garbage or empty body,
// delay, hang), request counters and a clock offset.
//
//	s, err := fakeaz.New()
//	if err != nil { ... }
//	if err := s.Start("127.0.0.1:0"); err != nil { ... }
//	defer s.Close()
//	app, _ := s.AddApp(fakeaz.App{BundleID: "com.example.app"})
//	f, _ := s.Factory(app.ID) // mints the tokens this AZ would issue
//
// Where the server listens and the serverUrl its clients use are separate:
// WithPublicURL fixes the serverUrl (a Service name, an ingress),
// WithPublicURLFromRequest takes it from each request's Forwarded,
// X-Forwarded-* or Host headers (a container behind a mapped port). The admin
// API mints tokens every trusting target accepts: off loopback it needs
// WithAdminToken or a loopback listener of its own (WithAdminListen), and
// fakeaz/adminclient drives it from Go. WithSigningKey shares one signing key
// between processes.
//
// An app whose Shape is an App ID tokenfactory.Shape (JSON: "profile":
// "appid" and a "generation") is also an IBM Cloud App ID tenant
// (OAuthServerURL), and Factory mints in that shape (App.TokenShape). One
// http.ServeMux routes every request, through one middleware that logs,
// counts, applies faults and limits bodies.
//
// Every route of the JSON admin API (under /admin/, for test suites in other
// languages) and every decision the protocol leaves open is documented in
// README.md beside this file.
//
// Device keys of 512 bits are accepted; a program importing fakeaz needs
// `godebug rsa1024min=0` in its go.mod (as this module has) for Go's
// crypto/rsa to verify them.
package fakeaz
