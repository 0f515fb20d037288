package reference

import (
	"net/http"
	"strings"
)

// MaxHeaderBytes bounds the Authorization header the validator reads; a
// longer one is refused with 400 before any parsing.
const MaxHeaderBytes = 16 << 10

// ParseHeader parses an Authorization header value of the form
// "Bearer <access> [<id>]" strictly (RFC 6750 §2.1 with RFC 9110's
// case-insensitive scheme):
//
//   - "" or only whitespace: no credentials (*Error with ErrNoCredentials, 401);
//   - a scheme other than Bearer: no credentials (401 bare challenge, RFC 6750 §3.1);
//   - longer than MaxHeaderBytes, control or non-ASCII characters, no token,
//     more than two tokens, a token with a character outside the b64token
//     set [A-Za-z0-9-._~+/=]: malformed (ErrInvalidRequest, 400).
//
// Spaces and tabs of any length separate the parts. id is "" when absent.
func ParseHeader(h string) (access, id string, err error) {
	access, id, e := parseHeader(h)
	if e != nil {
		return "", "", e
	}
	return access, id, nil
}

func parseHeader(h string) (access, id string, err *Error) {
	if len(h) > MaxHeaderBytes {
		return "", "", errRequest("Authorization header longer than the accepted maximum")
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; (c < 0x20 && c != '\t') || c >= 0x7f {
			return "", "", errRequest("Authorization header contains control or non-ASCII characters")
		}
	}
	h = trimWS(h)
	if h == "" {
		return "", "", errNoCredentials("empty Authorization header")
	}
	i := indexWS(h)
	scheme, rest := h, ""
	if i >= 0 {
		scheme, rest = h[:i], trimWS(h[i:])
	}
	if !strings.EqualFold(scheme, "Bearer") {
		return "", "", errNoCredentials("Authorization scheme is not Bearer")
	}
	if rest == "" {
		return "", "", errRequest("Bearer with no token")
	}
	access, rest = cutWS(rest)
	id, rest = cutWS(rest)
	if rest != "" {
		return "", "", errRequest("more than two tokens after Bearer")
	}
	if !isB64Token(access) || (id != "" && !isB64Token(id)) {
		return "", "", errRequest("token contains characters outside the RFC 6750 b64token set")
	}
	return access, id, nil
}

// splitFast splits "Bearer <a> [<b>]" without validating the tokens; it is
// the cache-hit path. Anything unusual returns ok=false (the strict parser
// then decides). A cache hit compares the tokens with stored ones that
// passed the strict parser, so no validation is lost.
func splitFast(h string) (access, id string, ok bool) {
	if len(h) > MaxHeaderBytes || len(h) < 8 {
		return "", "", false
	}
	if (h[6] != ' ' && h[6] != '\t') || !strings.EqualFold(h[:6], "Bearer") {
		return "", "", false
	}
	rest := trimWS(h[7:])
	i := indexWS(rest)
	if i < 0 {
		return rest, "", rest != ""
	}
	return rest[:i], trimWS(rest[i:]), true
}

func isWS(c byte) bool { return c == ' ' || c == '\t' }

func trimWS(s string) string {
	for len(s) > 0 && isWS(s[0]) {
		s = s[1:]
	}
	for len(s) > 0 && isWS(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	return s
}

// indexWS returns the index of the first space or tab (vectorised search).
func indexWS(s string) int {
	i := strings.IndexByte(s, ' ')
	if i < 0 {
		return strings.IndexByte(s, '\t')
	}
	if j := strings.IndexByte(s[:i], '\t'); j >= 0 {
		return j
	}
	return i
}

// cutWS returns the first whitespace-separated field of s and the rest
// with leading whitespace removed.
func cutWS(s string) (field, rest string) {
	i := indexWS(s)
	if i < 0 {
		return s, ""
	}
	return s[:i], trimWS(s[i:])
}

var b64tokenChars = func() (t [256]bool) {
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~+/=" {
		t[c] = true
	}
	return t
}()

// isB64Token reports whether s is made of RFC 6750 b64token characters:
// ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" and "=". RFC 6750 allows
// "=" only at the end; here it is accepted anywhere so that a JWS with padded
// segments reaches the token checks and is refused as invalid_token (401), a
// malformed token rather than a malformed request.
func isB64Token(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !b64tokenChars[s[i]] {
			return false
		}
	}
	return true
}

// AuthorizationHeaderFromIncomingRequest returns the incoming Authorization
// header unchanged, byte for byte, for propagation to another protected
// service (getAuthorizationHeaderFromIncomingRequest of the npm SDK). It is
// "" when the request has none.
func AuthorizationHeaderFromIncomingRequest(r *http.Request) string {
	if v := r.Header.Values("Authorization"); len(v) > 0 {
		return v[0]
	}
	return ""
}
