package tokenfactory

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Inspection is a compact JWS taken apart without verifying anything: the
// one unverified decoder of the module (explanations, reports, the CLI, the
// bench). A broken token inspects without error; each part says how far it
// decoded.
type Inspection struct {
	// Segments is the number of '.'-separated segments.
	Segments int
	// Header, Payload and Signature are the first three segments (zero when
	// absent).
	Header, Payload, Signature Part
}

// Part is one segment of a compact JWS.
type Part struct {
	// Raw is the segment as sent.
	Raw string
	// Bytes is Raw decoded by DecodeLenient (either base64 alphabet, padded
	// or not); nil when Err is set.
	Bytes []byte
	// Err says why Raw does not decode.
	Err error
	// Canonical reports that Raw is exactly what the protocol emits:
	// unpadded base64url (RFC 7515 §2) that decodes.
	Canonical bool
}

// Present reports whether the token had this segment.
func (p Part) Present() bool { return p.Bytes != nil || p.Err != nil }

// Inspect takes tok apart. It never fails: see each Part's Err.
func Inspect(tok string) Inspection {
	segs := strings.Split(tok, ".")
	in := Inspection{Segments: len(segs)}
	for i, p := range []*Part{&in.Header, &in.Payload, &in.Signature} {
		if i < len(segs) {
			*p = inspectPart(segs[i])
		}
	}
	return in
}

var errNoSegment = errors.New("segment absent")

func inspectPart(raw string) Part {
	b, err := DecodeLenient(raw)
	if err != nil {
		return Part{Raw: raw, Err: err}
	}
	if b == nil {
		b = []byte{}
	}
	return Part{Raw: raw, Bytes: b, Canonical: !strings.ContainsAny(raw, `=+/\`)}
}

// Object decodes the part as a JSON object.
func (p Part) Object() (map[string]any, error) {
	if p.Err != nil {
		return nil, p.Err
	}
	if p.Bytes == nil {
		return nil, errNoSegment
	}
	var m map[string]any
	if err := json.Unmarshal(p.Bytes, &m); err != nil {
		return nil, err
	}
	return m, nil
}

// Claims decodes the payload as a JSON object of claims. A token with fewer
// than two segments has no payload.
func (in Inspection) Claims() (map[string]any, error) {
	if in.Segments < 2 {
		return nil, fmt.Errorf("a compact JWS has 3 segments, this has %d", in.Segments)
	}
	c, err := in.Payload.Object()
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return c, nil
}

// StringClaim returns the payload's claim name when it is a JSON string.
func (in Inspection) StringClaim(name string) (string, bool) {
	c, err := in.Claims()
	if err != nil {
		return "", false
	}
	s, ok := c[name].(string)
	return s, ok
}
