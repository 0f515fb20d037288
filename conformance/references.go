package conformance

// Frequently cited references. Every reference resolves for a user: an RFC
// or OIDC section, a CVE, or a document of this repository with the section
// (docs/SEED-README.md quotes the seed strategy's README). TestRefsResolve
// checks the documents and sections exist.
const (
	refSeedHeader     = `docs/SEED-README.md §Authorization header: "Bearer <Access Token> <Id Token>" ... "start with Bearer, otherwise a 400 error will be returned"`
	refSeedNoAuth     = `RFC 6750 §3 (a request without credentials gets a challenge with no error code); docs/SEED-README.md §Validation (realm="imfAuthentication")`
	refSeedInvalid    = `docs/SEED-README.md §Validation: "If the access token or id token is invalid ... a 401 error, with ... error=\"invalid_token\""`
	refSeedVerify     = `docs/SEED-README.md §Validation: "It will verify the signature of the access token and id token, as well as their exp field."`
	refSeedAud        = `docs/SEED-README.md §Validation: "It requires that aud be the same as the application id"`
	refSeedCtx        = "docs/SEED-README.md §Security context: imf.sub, imf.user, imf.device, imf.application ({} without an id token)"
	refSeedCache      = "docs/SEED-README.md §Options (cacheSize: validated tokens and the public key are cached)"
	refSeedKey        = `docs/SEED-README.md §Options: "serverUrl ... from which the public key will be retrieved"`
	refAZKey          = "fakeaz/README.md §AZ endpoints (GET {serverUrl}/authorization/v1/apps/{appId}/publickey, one key per app)"
	refAZToken        = "fakeaz/README.md §AZ endpoints (POST token, grant_type=client_credentials)"
	refContract       = "docs/TARGET-CONTRACT.md §Routes (a rejection: 401 / 400 / 503, the handler does not run)"
	refProtected      = "docs/TARGET-CONTRACT.md §/protected"
	refPropagate      = "docs/TARGET-CONTRACT.md §/propagate"
	refServiceCall    = "docs/TARGET-CONTRACT.md §/service-call"
	refHygiene        = "docs/TARGET-CONTRACT.md §Server hygiene"
	refContractIssuer = "docs/TARGET-CONTRACT.md §Start-up (MCA_ISSUER: the exact iss of the AZ's tokens)"
	refContractAppID  = "docs/TARGET-CONTRACT.md §App id (the first GUID in the path, [0-9a-f] in any case)"
	refKeyRotation    = "OIDC Core §10.1.1 (rotation of asymmetric signing keys)"
	refUnavailable    = "RFC 9110 §15.6.4 (503 Service Unavailable)"
	refRFC6750s2      = "RFC 6750 §2.1 (b64token syntax)"
	refRFC6750s3      = "RFC 6750 §3.1 (error codes)"
	refRFC7515        = "RFC 7515 §7.1, §5.2 (compact serialization, base64url without padding)"
	refRFC7519        = "RFC 7519 §4.1 (registered claims, NumericDate)"
	refRFC8725s2      = "RFC 8725 §2.1, §3.1 (algorithm verification)"
	refRFC8725s33     = "RFC 8725 §3.3 (validate all cryptographic operations)"
	refRFC9068        = "RFC 9068 §4 (exp, aud, iss MUST be validated)"
)
