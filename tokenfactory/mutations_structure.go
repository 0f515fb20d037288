package tokenfactory

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Mutations that break the compact serialization: segments, base64url encoding and size.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// Segment is one of the three segments of a compact JWS (FlipBit,
// EmptySegment, NotJSONObject).
type Segment int

// Segments of a compact JWS, in order.
const (
	SegHeader    Segment = 0
	SegPayload   Segment = 1
	SegSignature Segment = 2
)

var segNames = [...]string{"header", "payload", "signature"}

// String is the segment's name: header, payload or signature.
func (s Segment) String() string {
	if s < 0 || int(s) >= len(segNames) {
		return fmt.Sprintf("segment(%d)", int(s))
	}
	return segNames[s]
}

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
func EmptySegment(seg Segment) Mutation {
	return editSegments("empty-segment/"+seg.String(), fmt.Sprintf("The %s segment is empty.", seg), func(parts []string) error {
		parts[seg] = ""
		return nil
	})
}

// ForeignChar puts a character that is allowed in an RFC 6750 b64token but
// is not base64url ('+', '/', '~') in the middle of the payload segment.
func ForeignChar(c byte) Mutation {
	name, doc := fmt.Sprintf("foreign-char/%q", c), fmt.Sprintf("The payload segment contains %q, which is not base64url.", c)
	return editSegments(name, doc, func(parts []string) error {
		if len(parts[1]) < 2 {
			return errors.New("needs a payload of two characters or more")
		}
		mid := len(parts[1]) / 2
		parts[1] = parts[1][:mid] + string(c) + parts[1][mid+1:]
		return nil
	})
}

// Padded encodes every segment as padded base64url. The claims get a filler
// claim "pad" when needed so that the payload really carries '=' padding.
// Apply it after other claim mutations: it freezes the claims.
func Padded() Mutation {
	return encodedWith("encoding/padded", "Segments are base64url with '=' padding (the protocol emits none).",
		base64.URLEncoding.EncodeToString, func(b []byte) bool { return len(b)%3 != 0 })
}

// StdAlphabet encodes every segment with the standard base64 alphabet
// (unpadded); the claims get a filler so that the payload really contains
// '+' or '/'. Apply it after other claim mutations: it freezes the claims.
func StdAlphabet() Mutation {
	return encodedWith("encoding/std-alphabet", "Segments use the standard base64 alphabet ('+', '/') instead of base64url.",
		base64.RawStdEncoding.EncodeToString, func(b []byte) bool {
			return strings.ContainsAny(base64.RawStdEncoding.EncodeToString(b), "+/")
		})
}

// encodedWith is a mutation that encodes every segment with encode, the
// claims frozen (see freezeClaims) into bytes for which ok holds.
func encodedWith(name, doc string, encode func([]byte) string, ok func([]byte) bool) Mutation {
	return Mutation{Name: name, Doc: doc, Before: func(dr *Draft, _ Env) error {
		dr.Encode = encode
		return freezeClaims(dr, ok)
	}}
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

// Oversized adds a claim "pad" of n bytes, making the token about 4n/3 bytes longer.
func Oversized(n int) Mutation {
	return editDraft(fmt.Sprintf("oversized/%d", n), fmt.Sprintf("A %d-byte filler claim makes the token huge.", n), func(dr *Draft, _ Env) {
		dr.Claims["pad"] = strings.Repeat("A", n)
	})
}

// ManyClaims adds n small claims c0 .. c(n-1).
func ManyClaims(n int) Mutation {
	return editDraft(fmt.Sprintf("many-claims/%d", n), fmt.Sprintf("The payload carries %d extra claims.", n), func(dr *Draft, _ Env) {
		for i := range n {
			dr.Claims[fmt.Sprintf("c%d", i)] = i
		}
	})
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
