package tokenfactory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// Mutations that break the JSON of the header or payload: not an object, duplicate keys, unusual literals, bytes around the object.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// NotJSONKind names what NotJSONObject puts where a JSON object belongs:
// non-object JSON, or not JSON at all.
type NotJSONKind string

// Kinds of NotJSONObject.
const (
	JSONArray       NotJSONKind = "array"
	JSONNumber      NotJSONKind = "number"
	JSONString      NotJSONKind = "string"
	JSONGarbage     NotJSONKind = "garbage"
	JSONInvalidUTF8 NotJSONKind = "invalid-utf8"
	JSONTruncated   NotJSONKind = "truncated"
)

// NotJSONKinds lists the kinds of NotJSONObject (a new slice on each call).
func NotJSONKinds() []NotJSONKind {
	return []NotJSONKind{JSONArray, JSONNumber, JSONString, JSONGarbage, JSONInvalidUTF8, JSONTruncated}
}

// NotJSONObject replaces the header or payload (before signing, so the
// signature is valid over it) with something that is not a JSON object of
// claims: an array, a number, a string, garbage, a truncated object, or an
// object with invalid UTF-8 in a string value.
func NotJSONObject(seg Segment, kind NotJSONKind) Mutation {
	return Mutation{
		Name: "not-json/" + seg.String() + "/" + string(kind),
		Doc:  fmt.Sprintf("The %s is %s instead of a JSON object.", seg, kind),
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
			a, b := badJSON, good
			if !first {
				a, b = good, badJSON
			}
			return writeClaimFirst(dr, name, a, b)
		},
	}
}

// ClaimLiteral writes a claim's value as the given JSON text, byte for byte
// (e.g. exp as "1.7e9", "1765051234.5" or "9223372036854775808"). Apply it
// after other claim mutations: it freezes the claims.
func ClaimLiteral(name, literal string) Mutation {
	return Mutation{
		Name: "claim-literal/" + name + "/" + literal,
		Doc:  fmt.Sprintf("The %s claim is written as the JSON text %s.", name, literal),
		Before: func(dr *Draft, _ Env) error {
			return writeClaimFirst(dr, name, []byte(literal))
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

// Framing names bytes that JSONFraming puts around the payload's JSON object.
type Framing string

// Framings.
const (
	// FramingTrailing appends bytes after the object.
	FramingTrailing Framing = "trailing-bytes"
	// FramingBOM prefixes a UTF-8 byte order mark.
	FramingBOM Framing = "utf8-bom"
)

// JSONFraming puts bytes around the payload's JSON object before signing:
// FramingTrailing appends `{"aud":"<other app>"}` (a second object a
// streaming parser may read), FramingBOM prefixes EF BB BF (RFC 8259 §8.1:
// senders MUST NOT add one).
func JSONFraming(kind Framing) Mutation {
	return Mutation{
		Name: "json-framing/" + string(kind),
		Doc:  map[Framing]string{FramingTrailing: "The payload's JSON object is followed by a second object.", FramingBOM: "The payload starts with a UTF-8 byte order mark."}[kind],
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

// writeClaimFirst freezes the claims into RawClaims with name written first,
// once per value (each value is JSON text, written byte for byte), followed
// by the other claims.
func writeClaimFirst(dr *Draft, name string, values ...[]byte) error {
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
	buf.WriteByte('{')
	for i, v := range values {
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "%s:%s", key, v)
	}
	if len(body) > 2 {
		buf.WriteByte(',')
		buf.Write(body[1:])
	} else {
		buf.WriteByte('}')
	}
	dr.RawClaims = buf.Bytes()
	return nil
}
