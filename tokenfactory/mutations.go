package tokenfactory

import (
	"bytes"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// This file holds the named broken-token mutations. Each constructor returns
// a Mutation whose Name is stable (the conformance catalogue and the docs
// print it) and whose Doc says what it does in one sentence.

// ---- time claims ----

// ExpiredBy sets exp to now - d (iat is left as minted).
func ExpiredBy(d time.Duration) Mutation {
	return Mutation{
		Name: "expired-by/" + d.String(),
		Doc:  fmt.Sprintf("exp is %s in the past.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["exp"] = e.Now.Add(-d).Unix()
			return nil
		},
	}
}

// ExpiresIn sets exp to now + d; ExpiresIn(0) is the boundary case exp == now.
func ExpiresIn(d time.Duration) Mutation {
	return Mutation{
		Name: "expires-in/" + d.String(),
		Doc:  fmt.Sprintf("exp is now + %s (0s: exactly now, which is already expired).", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["exp"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}

// NotYetValid sets nbf to now + d.
func NotYetValid(d time.Duration) Mutation {
	return Mutation{
		Name: "nbf-in/" + d.String(),
		Doc:  fmt.Sprintf("nbf is %s in the future.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["nbf"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}

// IssuedIn sets iat to now + d (d > 0: issued in the future).
func IssuedIn(d time.Duration) Mutation {
	return Mutation{
		Name: "iat-in/" + d.String(),
		Doc:  fmt.Sprintf("iat is now + %s.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["iat"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}

// ---- presence and value of claims ----

// WithoutClaim deletes a claim.
func WithoutClaim(name string) Mutation {
	return Mutation{
		Name: "no-" + name,
		Doc:  fmt.Sprintf("The %s claim is absent.", name),
		Before: func(dr *Draft, _ Env) error {
			delete(dr.Claims, name)
			return nil
		},
	}
}

// NoExp deletes exp: a token that never dies.
func NoExp() Mutation { return WithoutClaim("exp") }

// NoAud deletes aud.
func NoAud() Mutation { return WithoutClaim("aud") }

// NoIss deletes iss.
func NoIss() Mutation { return WithoutClaim("iss") }

// WithClaim sets a claim to any JSON value.
func WithClaim(name string, value any) Mutation {
	return Mutation{
		Name: "claim/" + name,
		Doc:  fmt.Sprintf("The %s claim is set to %v.", name, value),
		Before: func(dr *Draft, _ Env) error {
			dr.Claims[name] = value
			return nil
		},
	}
}

// WrongAud sets aud to another app id.
func WrongAud(aud string) Mutation {
	m := WithClaim("aud", aud)
	m.Name, m.Doc = "aud/wrong", fmt.Sprintf("aud is another app id (%s).", aud)
	return m
}

// WrongIss sets iss to another issuer.
func WrongIss(iss string) Mutation {
	m := WithClaim("iss", iss)
	m.Name, m.Doc = "iss/wrong", fmt.Sprintf("iss is another issuer (%s).", iss)
	return m
}

// Near misses of the audience, each derived from the token's own aud.
const (
	AudPrefix        = "prefix"         // aud without its last character
	AudSuffix        = "suffix"         // aud with one character appended
	AudUpperCase     = "upper-case"     // aud in upper case
	AudTrailingSpace = "trailing-space" // aud + " "
	AudLeadingSpace  = "leading-space"  // " " + aud
)

// AudNearMisses lists the kinds of AudNearMiss.
var AudNearMisses = []string{AudPrefix, AudSuffix, AudUpperCase, AudTrailingSpace, AudLeadingSpace}

// AudNearMiss changes aud into a near miss of itself (see AudNearMisses).
func AudNearMiss(kind string) Mutation {
	return Mutation{
		Name: "aud/near-miss/" + kind,
		Doc:  fmt.Sprintf("aud is the right app id altered slightly (%s).", kind),
		Before: func(dr *Draft, _ Env) error {
			aud, ok := dr.Claims["aud"].(string)
			if !ok || aud == "" {
				return errors.New("aud is not a non-empty string")
			}
			switch kind {
			case AudPrefix:
				aud = aud[:len(aud)-1]
			case AudSuffix:
				aud += "0"
			case AudUpperCase:
				if up := strings.ToUpper(aud); up != aud {
					aud = up
				} else {
					aud = strings.ToLower(aud)
				}
			case AudTrailingSpace:
				aud += " "
			case AudLeadingSpace:
				aud = " " + aud
			default:
				return fmt.Errorf("unknown near-miss kind %q", kind)
			}
			dr.Claims["aud"] = aud
			return nil
		},
	}
}

// AudArray turns aud into an array: the original aud followed by extra.
func AudArray(extra ...string) Mutation {
	return Mutation{
		Name: "aud/array",
		Doc:  "aud is a JSON array holding the right app id (plus any extra entries).",
		Before: func(dr *Draft, _ Env) error {
			arr := []any{dr.Claims["aud"]}
			for _, x := range extra {
				arr = append(arr, x)
			}
			dr.Claims["aud"] = arr
			return nil
		},
	}
}

// JSON types a claim can be retyped to.
const (
	TypeString = "string"
	TypeNumber = "number"
	TypeBool   = "bool"
	TypeNull   = "null"
	TypeArray  = "array"
	TypeObject = "object"
)

// RetypeClaim gives a claim a value of the wrong JSON type that still carries
// the original value where possible: exp 1700000000 becomes "1700000000" as
// a string, aud "x" becomes a number, and so on.
func RetypeClaim(name, to string) Mutation {
	return Mutation{
		Name: "retype/" + name + "/" + to,
		Doc:  fmt.Sprintf("The %s claim is a JSON %s.", name, to),
		Before: func(dr *Draft, _ Env) error {
			v := dr.Claims[name]
			switch to {
			case TypeString:
				dr.Claims[name] = fmt.Sprint(v)
			case TypeNumber:
				dr.Claims[name] = 12345
			case TypeBool:
				dr.Claims[name] = true
			case TypeNull:
				dr.Claims[name] = nil
			case TypeArray:
				dr.Claims[name] = []any{v}
			case TypeObject:
				dr.Claims[name] = map[string]any{"value": v}
			default:
				return fmt.Errorf("unknown JSON type %q", to)
			}
			return nil
		},
	}
}

// ---- signature and algorithm ----

// SignedBy signs the token with another key (header unchanged, jpk still
// naming the real signer's key unless the factory has jpk off).
func SignedBy(key *rsa.PrivateKey) Mutation {
	return Mutation{
		Name: "signed-by-other-key",
		Doc:  "Signed RS256 by a key the AZ never used.",
		Before: func(dr *Draft, _ Env) error {
			dr.Sign = func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(key, RS256, in, e.Rand) }
			return nil
		},
	}
}

// Segments of a compact JWS, for FlipBit and EmptySegment.
const (
	SegHeader    = 0
	SegPayload   = 1
	SegSignature = 2
)

var segNames = [...]string{"header", "payload", "signature"}

// FlipBit flips one bit of a segment after signing. In the header and the
// payload it flips the lowest bit of the last letter of the last JSON string
// value (so the JSON stays valid and only the signature check can catch it);
// in the signature it flips the lowest bit of the last byte.
func FlipBit(seg int) Mutation {
	return Mutation{
		Name: "flip-bit/" + segNames[seg],
		Doc:  fmt.Sprintf("One bit of the %s is flipped after signing.", segNames[seg]),
		After: func(tok string, _ Env) (string, error) {
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				return "", errors.New("flip-bit needs a 3-segment token")
			}
			raw, err := B64.DecodeString(parts[seg])
			if err != nil || len(raw) == 0 {
				return "", fmt.Errorf("segment %s is not decodable", segNames[seg])
			}
			i := len(raw) - 1
			if seg != SegSignature {
				if i = lastValueLetter(raw); i < 0 {
					return "", fmt.Errorf("no string value with a letter in the %s", segNames[seg])
				}
			}
			raw[i] ^= 1
			parts[seg] = B64.EncodeToString(raw)
			return strings.Join(parts, "."), nil
		},
	}
}

// lastValueLetter returns the index of the last ASCII letter inside a JSON
// string that is an object value (preceded by ':'), or -1.
func lastValueLetter(doc []byte) int {
	last, inStr, isValue, esc := -1, false, false, false
	prev := byte(0) // previous significant byte outside strings
	for i, c := range doc {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
			prev = '"'
		case inStr:
			if isValue && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				last = i
			}
		case c == '"':
			inStr, isValue = true, prev == ':'
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			prev = c
		}
	}
	return last
}

// SignatureStripped removes the signature, keeping the trailing dot.
func SignatureStripped() Mutation {
	return Mutation{
		Name: "signature-stripped",
		Doc:  "The signature segment is empty (header.payload.).",
		After: func(tok string, _ Env) (string, error) {
			return tok[:strings.LastIndexByte(tok, '.')+1], nil
		},
	}
}

// AlgNoneSpellings are the spellings of "none" tried by AlgNone.
var AlgNoneSpellings = []string{"none", "None", "NONE", "nOnE"}

// AlgNone rewrites a signed token's header to alg spelling (a spelling of
// "none") the way an attacker would: the payload is kept, and the signature
// is either dropped (keepSig false) or the original RS256 signature, now over
// a different header (keepSig true).
func AlgNone(spelling string, keepSig bool) Mutation {
	variant := "empty-sig"
	if keepSig {
		variant = "original-sig"
	}
	return Mutation{
		Name: "alg-none/" + spelling + "/" + variant,
		Doc:  fmt.Sprintf("Header alg is %q, signature %s.", spelling, map[bool]string{true: "kept from the RS256 original", false: "empty"}[keepSig]),
		After: func(tok string, _ Env) (string, error) {
			return rewriteHeader(tok, keepSig, func(h map[string]any) { h["alg"] = spelling })
		},
	}
}

// rewriteHeader edits a finished token's header, keeping the payload and
// (if keepSig) the old signature.
func rewriteHeader(tok string, keepSig bool, edit func(map[string]any)) (string, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return "", errors.New("needs a 3-segment token")
	}
	raw, err := B64.DecodeString(parts[0])
	if err != nil {
		return "", err
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", err
	}
	edit(h)
	nh, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	parts[0] = B64.EncodeToString(nh)
	if !keepSig {
		parts[2] = ""
	}
	return strings.Join(parts, "."), nil
}

// Textual forms of an RSA public key, used as an HMAC secret by HS256WithPublicKey.
const (
	// KeyPKCS1PEM is the PKCS#1 PEM exactly as the npm package rsa-pem-from-mod-exp
	// prints it ("-----BEGIN RSA PUBLIC KEY-----", 64-column lines, trailing newline);
	// the npm MCA strategy builds its verification key with that package.
	KeyPKCS1PEM          = "pkcs1-pem"
	KeyPKCS1PEMNoNewline = "pkcs1-pem-no-newline"
	KeySPKIPEM           = "spki-pem"
	KeySPKIPEMNoNewline  = "spki-pem-no-newline"
	KeyPKCS1DER          = "pkcs1-der"
	KeySPKIDER           = "spki-der"
	// KeyPublicKeyJSON is the AZ's publickey endpoint body, {"kty":"RSA","n":...,"e":...}.
	KeyPublicKeyJSON = "publickey-json"
)

// KeyForms lists every form of KeyBytes.
var KeyForms = []string{KeyPKCS1PEM, KeyPKCS1PEMNoNewline, KeySPKIPEM, KeySPKIPEMNoNewline, KeyPKCS1DER, KeySPKIDER, KeyPublicKeyJSON}

// KeyBytes renders a public key in one of the KeyForms.
func KeyBytes(pub *rsa.PublicKey, form string) ([]byte, error) {
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	switch form {
	case KeyPKCS1PEM:
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}), nil
	case KeyPKCS1PEMNoNewline:
		return bytes.TrimSuffix(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: pkcs1}), []byte("\n")), nil
	case KeySPKIPEM:
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), nil
	case KeySPKIPEMNoNewline:
		return bytes.TrimSuffix(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: spki}), []byte("\n")), nil
	case KeyPKCS1DER:
		return pkcs1, nil
	case KeySPKIDER:
		return spki, nil
	case KeyPublicKeyJSON:
		return json.Marshal(NewPublicKeyJSON(pub))
	}
	return nil, fmt.Errorf("unknown key form %q", form)
}

// HS256WithPublicKey signs HS256 with the signer's public key, rendered in
// form, as the HMAC secret: the classic algorithm-confusion attack against
// validators that pass the alg from the token to a generic verify call.
func HS256WithPublicKey(form string) Mutation {
	return Mutation{
		Name: "hs256-public-key/" + form,
		Doc:  fmt.Sprintf("alg HS256, HMAC keyed with the AZ public key as %s.", form),
		Before: func(dr *Draft, e Env) error {
			secret, err := KeyBytes(&e.Key.PublicKey, form)
			if err != nil {
				return err
			}
			dr.Header["alg"] = "HS256"
			dr.Sign = func(in []byte, _ Env) ([]byte, error) { return hmacSHA256(secret, in), nil }
			return nil
		},
	}
}

// HS256EmptySecret signs HS256 with an empty secret.
func HS256EmptySecret() Mutation {
	return Mutation{
		Name: "hs256-empty-secret",
		Doc:  "alg HS256, HMAC keyed with the empty string.",
		Before: func(dr *Draft, _ Env) error {
			dr.Header["alg"] = "HS256"
			dr.Sign = func(in []byte, _ Env) ([]byte, error) { return hmacSHA256(nil, in), nil }
			return nil
		},
	}
}

func hmacSHA256(key, in []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(in)
	return m.Sum(nil)
}

// AlgSameKey signs with the AZ's own key under another RSA algorithm
// (RS384, RS512, PS256, ...): a valid signature, but only RS256 is issued.
func AlgSameKey(alg string) Mutation {
	return Mutation{
		Name: "alg-same-key/" + alg,
		Doc:  fmt.Sprintf("Signed by the AZ key, but with alg %s instead of RS256.", alg),
		Before: func(dr *Draft, _ Env) error {
			dr.Header["alg"] = alg
			dr.Sign = func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(e.Key, alg, in, e.Rand) }
			return nil
		},
	}
}

// Header parameters through which a token can embed its own key.
const (
	EmbedJPK = "jpk"
	EmbedJWK = "jwk"
	EmbedX5C = "x5c"
)

// EmbeddedKey signs with the attacker's key and embeds the attacker's public
// key in the header (jpk as MCA tokens carry it, a JWK, or a self-signed
// certificate chain in x5c), hoping the validator trusts the token's own key.
func EmbeddedKey(param string, attacker *rsa.PrivateKey) Mutation {
	return Mutation{
		Name: "embedded-key/" + param,
		Doc:  fmt.Sprintf("Signed by an attacker key that the header carries in %s.", param),
		Before: func(dr *Draft, e Env) error {
			switch param {
			case EmbedJPK:
				dr.Header["jpk"] = JPK(&attacker.PublicKey)
			case EmbedJWK:
				k := NewPublicKeyJSON(&attacker.PublicKey)
				dr.Header["jwk"] = map[string]any{"kty": k.Kty, "n": k.N, "e": k.E}
			case EmbedX5C:
				der, err := selfSigned(attacker, e)
				if err != nil {
					return err
				}
				dr.Header["x5c"] = []string{base64.StdEncoding.EncodeToString(der)}
			default:
				return fmt.Errorf("unknown header parameter %q", param)
			}
			dr.Sign = func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(attacker, RS256, in, e.Rand) }
			return nil
		},
	}
}

func selfSigned(key *rsa.PrivateKey, e Env) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(e.Now.UnixNano()),
		Subject:      pkix.Name{CommonName: "mcaspec attacker"},
		NotBefore:    e.Now.Add(-time.Hour),
		NotAfter:     e.Now.Add(24 * time.Hour),
	}
	return x509.CreateCertificate(e.Rand, tmpl, tmpl, &key.PublicKey, key)
}

// Header parameters that point at a key by URL.
const (
	URLJKU = "jku"
	URLX5U = "x5u"
)

// KeyURL signs with the attacker's key and points jku or x5u at url, where
// the attacker serves that key. A validator must not fetch it.
func KeyURL(param, url string, attacker *rsa.PrivateKey) Mutation {
	return Mutation{
		Name: "key-url/" + param,
		Doc:  fmt.Sprintf("Signed by an attacker key that the header's %s points at.", param),
		Before: func(dr *Draft, _ Env) error {
			if param != URLJKU && param != URLX5U {
				return fmt.Errorf("unknown header parameter %q", param)
			}
			dr.Header[param] = url
			dr.Sign = func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(attacker, RS256, in, e.Rand) }
			return nil
		},
	}
}

// PsychicES256 claims ES256 with the all-zero signature r = s = 0
// (CVE-2022-21449: Java's ECDSA accepted it for any message and key).
func PsychicES256() Mutation {
	return Mutation{
		Name: "psychic-es256",
		Doc:  "alg ES256 with the signature r = s = 0 (64 zero bytes).",
		Before: func(dr *Draft, _ Env) error {
			dr.Header["alg"] = "ES256"
			dr.Sign = func([]byte, Env) ([]byte, error) { return make([]byte, 64), nil }
			return nil
		},
	}
}

// ---- structure and encoding ----

// SegmentCount reshapes a signed token to n segments: 1 (header only),
// 2 (header.payload), 4 or 5 (extra base64url segments appended).
func SegmentCount(n int) Mutation {
	return Mutation{
		Name: fmt.Sprintf("segments/%d", n),
		Doc:  fmt.Sprintf("The token has %d segments instead of 3.", n),
		After: func(tok string, _ Env) (string, error) {
			parts := strings.Split(tok, ".")
			switch {
			case n < 1:
				return "", errors.New("at least one segment")
			case n <= 3:
				return strings.Join(parts[:n], "."), nil
			}
			for len(parts) < n {
				parts = append(parts, B64.EncodeToString([]byte("extra")))
			}
			return strings.Join(parts, "."), nil
		},
	}
}

// EmptySegment empties one segment of a signed token.
func EmptySegment(seg int) Mutation {
	return Mutation{
		Name: "empty-segment/" + segNames[seg],
		Doc:  fmt.Sprintf("The %s segment is empty.", segNames[seg]),
		After: func(tok string, _ Env) (string, error) {
			parts := strings.Split(tok, ".")
			if len(parts) != 3 {
				return "", errors.New("needs a 3-segment token")
			}
			parts[seg] = ""
			return strings.Join(parts, "."), nil
		},
	}
}

// ForeignChar puts a character that is allowed in an RFC 6750 b64token but
// is not base64url ('+', '/', '~') in the middle of the payload segment.
func ForeignChar(c byte) Mutation {
	return Mutation{
		Name: fmt.Sprintf("foreign-char/%q", c),
		Doc:  fmt.Sprintf("The payload segment contains %q, which is not base64url.", c),
		After: func(tok string, _ Env) (string, error) {
			parts := strings.Split(tok, ".")
			if len(parts) != 3 || len(parts[1]) < 2 {
				return "", errors.New("needs a 3-segment token")
			}
			mid := len(parts[1]) / 2
			parts[1] = parts[1][:mid] + string(c) + parts[1][mid+1:]
			return strings.Join(parts, "."), nil
		},
	}
}

// Padded encodes every segment as padded base64url. The claims get a filler
// claim "pad" when needed so that the payload really carries '=' padding.
// Apply it after other claim mutations: it freezes the claims.
func Padded() Mutation {
	return Mutation{
		Name: "encoding/padded",
		Doc:  "Segments are base64url with '=' padding (the protocol emits none).",
		Before: func(dr *Draft, _ Env) error {
			dr.Encode = base64.URLEncoding.EncodeToString
			return freezeClaims(dr, func(b []byte) bool { return len(b)%3 != 0 })
		},
	}
}

// StdAlphabet encodes every segment with the standard base64 alphabet
// (unpadded); the claims get a filler so that the payload really contains
// '+' or '/'. Apply it after other claim mutations: it freezes the claims.
func StdAlphabet() Mutation {
	return Mutation{
		Name: "encoding/std-alphabet",
		Doc:  "Segments use the standard base64 alphabet ('+', '/') instead of base64url.",
		Before: func(dr *Draft, _ Env) error {
			dr.Encode = base64.RawStdEncoding.EncodeToString
			return freezeClaims(dr, func(b []byte) bool {
				return strings.ContainsAny(base64.RawStdEncoding.EncodeToString(b), "+/")
			})
		},
	}
}

// freezeClaims marshals the claims into RawClaims, adding a growing "pad"
// claim until ok holds for the bytes.
func freezeClaims(dr *Draft, ok func([]byte) bool) error {
	if dr.RawClaims != nil {
		if ok(dr.RawClaims) {
			return nil
		}
		return errors.New("raw claims already set and unsuitable")
	}
	c := make(map[string]any, len(dr.Claims)+1)
	for k, v := range dr.Claims {
		c[k] = v
	}
	fillers := []string{"", "?", "??", "~", "~~", ">", ">>", "~?", "?~", "~~~"}
	for _, f := range fillers {
		if f != "" {
			c["pad"] = f
		}
		b, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if ok(b) {
			dr.RawClaims = b
			return nil
		}
	}
	return errors.New("no filler made the claims fit")
}

// Kinds of non-object JSON (or non-JSON) for NotJSONObject.
const (
	JSONArray       = "array"
	JSONNumber      = "number"
	JSONString      = "string"
	JSONGarbage     = "garbage"
	JSONInvalidUTF8 = "invalid-utf8"
	JSONTruncated   = "truncated"
)

// NotJSONKinds lists the kinds of NotJSONObject.
var NotJSONKinds = []string{JSONArray, JSONNumber, JSONString, JSONGarbage, JSONInvalidUTF8, JSONTruncated}

// NotJSONObject replaces the header or payload (before signing, so the
// signature is valid over it) with something that is not a JSON object of
// claims: an array, a number, a string, garbage, a truncated object, or an
// object with invalid UTF-8 in a string value.
func NotJSONObject(seg int, kind string) Mutation {
	return Mutation{
		Name: "not-json/" + segNames[seg] + "/" + kind,
		Doc:  fmt.Sprintf("The %s is %s instead of a JSON object.", segNames[seg], kind),
		Before: func(dr *Draft, _ Env) error {
			orig, err := rawOr(pick(seg == SegHeader, dr.RawHeader, dr.RawClaims), pick(seg == SegHeader, dr.Header, dr.Claims))
			if err != nil {
				return err
			}
			var out []byte
			switch kind {
			case JSONArray:
				out = append(append([]byte("["), orig...), ']')
			case JSONNumber:
				out = []byte("42")
			case JSONString:
				b, _ := json.Marshal(string(orig))
				out = b
			case JSONGarbage:
				out = []byte("this is not json")
			case JSONTruncated:
				out = orig[:len(orig)/2]
			case JSONInvalidUTF8:
				// Add a string value with bytes that are not UTF-8.
				out = append(append([]byte{}, orig[:len(orig)-1]...), []byte(",\"x\":\"\xff\xfe\"}")...)
			default:
				return fmt.Errorf("unknown kind %q", kind)
			}
			if seg == SegHeader {
				dr.RawHeader = out
			} else {
				dr.RawClaims = out
			}
			return nil
		},
	}
}

func pick[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

// DuplicateClaim repeats a claim in the payload JSON with a second value.
// first true puts the bad value first (so parsers keeping the last key see
// the good value); false puts it last. Apply after other claim mutations.
func DuplicateClaim(name string, bad any, first bool) Mutation {
	where := map[bool]string{true: "bad-first", false: "bad-last"}[first]
	return Mutation{
		Name: "duplicate-claim/" + name + "/" + where,
		Doc:  fmt.Sprintf("The %s claim appears twice, the wrong value %s.", name, map[bool]string{true: "first", false: "last"}[first]),
		Before: func(dr *Draft, _ Env) error {
			good, err := json.Marshal(dr.Claims[name])
			if err != nil {
				return err
			}
			badJSON, err := json.Marshal(bad)
			if err != nil {
				return err
			}
			rest := make(map[string]any, len(dr.Claims))
			for k, v := range dr.Claims {
				if k != name {
					rest[k] = v
				}
			}
			body, err := json.Marshal(rest)
			if err != nil {
				return err
			}
			a, b := badJSON, good
			if !first {
				a, b = good, badJSON
			}
			key, _ := json.Marshal(name)
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "{%s:%s,%s:%s", key, a, key, b)
			if len(body) > 2 {
				buf.WriteByte(',')
				buf.Write(body[1:])
			} else {
				buf.WriteByte('}')
			}
			dr.RawClaims = buf.Bytes()
			return nil
		},
	}
}

// Oversized adds a claim "pad" of n bytes, making the token about 4n/3 bytes longer.
func Oversized(n int) Mutation {
	return Mutation{
		Name: fmt.Sprintf("oversized/%d", n),
		Doc:  fmt.Sprintf("A %d-byte filler claim makes the token huge.", n),
		Before: func(dr *Draft, _ Env) error {
			dr.Claims["pad"] = strings.Repeat("A", n)
			return nil
		},
	}
}

// ManyClaims adds n small claims c0 .. c(n-1).
func ManyClaims(n int) Mutation {
	return Mutation{
		Name: fmt.Sprintf("many-claims/%d", n),
		Doc:  fmt.Sprintf("The payload carries %d extra claims.", n),
		Before: func(dr *Draft, _ Env) error {
			for i := range n {
				dr.Claims[fmt.Sprintf("c%d", i)] = i
			}
			return nil
		},
	}
}

// DeepNesting adds a claim "deep" holding arrays nested depth levels deep.
// It is written as raw bytes (json.Marshal refuses very deep values).
func DeepNesting(depth int) Mutation {
	return Mutation{
		Name: fmt.Sprintf("deep-nesting/%d", depth),
		Doc:  fmt.Sprintf("A claim nests arrays %d levels deep.", depth),
		Before: func(dr *Draft, _ Env) error {
			body, err := rawOr(dr.RawClaims, dr.Claims)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			buf.Write(body[:len(body)-1])
			buf.WriteString(`,"deep":`)
			buf.WriteString(strings.Repeat("[", depth))
			buf.WriteString(strings.Repeat("]", depth))
			buf.WriteByte('}')
			dr.RawClaims = buf.Bytes()
			return nil
		},
	}
}

// ---- header parameters a JWS validator must understand or refuse ----

// UnknownCritExtension is the extension CritUnknown names.
const UnknownCritExtension = "urn:mcaspec:unknown-extension"

// CritUnknown adds "crit": [UnknownCritExtension] and that parameter to the
// header, validly signed: a recipient that does not understand a listed
// extension MUST reject the JWS (RFC 7515 §4.1.11).
func CritUnknown() Mutation {
	return Mutation{
		Name: "crit/unknown-extension",
		Doc:  `The header lists an unknown extension in "crit" (and carries it); the signature is valid.`,
		Before: func(dr *Draft, _ Env) error {
			dr.Header["crit"] = []any{UnknownCritExtension}
			dr.Header[UnknownCritExtension] = true
			return nil
		},
	}
}

// B64False sets the RFC 7797 header "b64": false, listed in "crit" when
// inCrit. The payload segment and the signature are those of an ordinary
// token (the signing input is the same bytes either way), so a validator
// that ignores b64 reads the claims while one that honours it reads the
// base64url text as the payload, which is not JSON.
func B64False(inCrit bool) Mutation {
	name, doc := "b64-false/no-crit", `The header has "b64": false without "crit" (RFC 7797 §6 requires it there).`
	if inCrit {
		name, doc = "b64-false/crit", `The header has "b64": false listed in "crit", as RFC 7797 §6 requires.`
	}
	return Mutation{
		Name: name, Doc: doc,
		Before: func(dr *Draft, _ Env) error {
			dr.Header["b64"] = false
			if inCrit {
				dr.Header["crit"] = []any{"b64"}
			}
			return nil
		},
	}
}

// ZipHeader adds "zip": "DEF" to a JWS header: a JWE parameter (RFC 7516
// §4.1.3) that a JWS never carries. The payload is not compressed.
func ZipHeader() Mutation {
	return Mutation{
		Name: "zip/DEF",
		Doc:  `The JWS header carries "zip": "DEF", a JWE-only parameter; the payload is plain JSON and validly signed.`,
		Before: func(dr *Draft, _ Env) error {
			dr.Header["zip"] = "DEF"
			return nil
		},
	}
}

// ---- claims written as unusual JSON ----

// ClaimLiteral writes a claim's value as the given JSON text, byte for byte
// (e.g. exp as "1.7e9", "1765051234.5" or "9223372036854775808"). Apply it
// after other claim mutations: it freezes the claims.
func ClaimLiteral(name, literal string) Mutation {
	return Mutation{
		Name: "claim-literal/" + name + "/" + literal,
		Doc:  fmt.Sprintf("The %s claim is written as the JSON text %s.", name, literal),
		Before: func(dr *Draft, _ Env) error {
			rest := make(map[string]any, len(dr.Claims))
			for k, v := range dr.Claims {
				if k != name {
					rest[k] = v
				}
			}
			body, err := json.Marshal(rest)
			if err != nil {
				return err
			}
			key, _ := json.Marshal(name)
			var buf bytes.Buffer
			fmt.Fprintf(&buf, "{%s:%s", key, literal)
			if len(body) > 2 {
				buf.WriteByte(',')
				buf.Write(body[1:])
			} else {
				buf.WriteByte('}')
			}
			dr.RawClaims = buf.Bytes()
			return nil
		},
	}
}

// ExpFloat writes exp as a non-integer NumericDate d from now (RFC 7519 §2
// allows fractions): now + d + 0.5 s, e.g. "1765047634.5".
func ExpFloat(d time.Duration) Mutation {
	return Mutation{
		Name: "exp-float/" + d.String(),
		Doc:  fmt.Sprintf("exp is now%+v plus half a second, written with a fraction.", d),
		Before: func(dr *Draft, e Env) error {
			return ClaimLiteral("exp", fmt.Sprintf("%d.5", e.Now.Add(d).Unix())).Before(dr, e)
		},
	}
}

// Bytes that JSONFraming puts around the payload's JSON object.
const (
	// FramingTrailing appends bytes after the object.
	FramingTrailing = "trailing-bytes"
	// FramingBOM prefixes a UTF-8 byte order mark.
	FramingBOM = "utf8-bom"
)

// JSONFraming puts bytes around the payload's JSON object before signing:
// FramingTrailing appends `{"aud":"<other app>"}` (a second object a
// streaming parser may read), FramingBOM prefixes EF BB BF (RFC 8259 §8.1:
// senders MUST NOT add one).
func JSONFraming(kind string) Mutation {
	return Mutation{
		Name: "json-framing/" + kind,
		Doc:  map[string]string{FramingTrailing: "The payload's JSON object is followed by a second object.", FramingBOM: "The payload starts with a UTF-8 byte order mark."}[kind],
		Before: func(dr *Draft, _ Env) error {
			body, err := rawOr(dr.RawClaims, dr.Claims)
			if err != nil {
				return err
			}
			switch kind {
			case FramingTrailing:
				dr.RawClaims = append(append([]byte{}, body...), []byte(`{"aud":"`+DefaultOtherAppID+`"}`)...)
			case FramingBOM:
				dr.RawClaims = append([]byte("\xef\xbb\xbf"), body...)
			default:
				return fmt.Errorf("unknown framing %q", kind)
			}
			return nil
		},
	}
}

// ---- key ids (App ID tokens select their key by kid) ----

// KeyID sets the "kid" header to kid (e.g. "../../publickey", "/dev/null"),
// signature valid under the signer's key.
func KeyID(kid string) Mutation {
	return Mutation{
		Name: "kid/" + kid,
		Doc:  fmt.Sprintf("The header's kid is %q.", kid),
		Before: func(dr *Draft, _ Env) error {
			dr.Header["kid"] = kid
			return nil
		},
	}
}

// ---- weak keys ----

// SignedWithExponentOne signs for an RSA "key" whose public exponent is 1:
// the signature is the PKCS #1 v1.5 encoded message itself, padded to the
// modulus size of Env.Key (so the one who publishes {n, e = 1} needs no
// private key at all). Pair it with a publickey body of WeakKeyJSON(n, 1).
func SignedWithExponentOne() Mutation {
	return Mutation{
		Name: "weak-key/exponent-one",
		Doc:  "Signed for a public key with e = 1: the signature is the encoded message itself.",
		Before: func(dr *Draft, _ Env) error {
			dr.Sign = func(input []byte, e Env) ([]byte, error) {
				return PKCS1v15SHA256Message(input, (e.Key.N.BitLen()+7)/8)
			}
			return nil
		},
	}
}

// PKCS1v15SHA256Message is the RSASSA-PKCS1-v1_5 encoded message of SHA-256
// over input for a modulus of size bytes (RFC 8017 §9.2).
func PKCS1v15SHA256Message(input []byte, size int) ([]byte, error) {
	prefix := []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}
	d := sha256.Sum256(input)
	t := append(prefix, d[:]...)
	if size < len(t)+11 {
		return nil, errors.New("modulus too short for PKCS #1 v1.5")
	}
	em := make([]byte, size)
	em[1] = 0x01
	for i := 2; i < size-len(t)-1; i++ {
		em[i] = 0xff
	}
	copy(em[size-len(t):], t)
	return em, nil
}

// WeakKeyJSON is a publickey endpoint body for modulus n and exponent e,
// encoded as NewPublicKeyJSON does but without its checks (e = 1 allowed).
func WeakKeyJSON(n *big.Int, e int) PublicKeyJSON {
	return PublicKeyJSON{Kty: "RSA", N: B64.EncodeToString(n.Bytes()), E: B64.EncodeToString(bigEndian(e))}
}
