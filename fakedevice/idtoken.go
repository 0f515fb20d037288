package fakedevice

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// IDClaims are the claims of an id token.
type IDClaims struct {
	Iss         string                   `json:"iss"`
	Aud         string                   `json:"aud"`
	Exp         int64                    `json:"exp"`
	Iat         int64                    `json:"iat"`
	Sub         string                   `json:"sub"`
	User        *tokenfactory.User       `json:"imf.user,omitempty"`
	Device      tokenfactory.Device      `json:"imf.device"`
	Application tokenfactory.Application `json:"imf.application"`
	// Raw holds every claim as decoded JSON.
	Raw map[string]any `json:"-"`
}

// IDTokenClaims decodes (without verifying) the id token's payload, with
// the platform SDK's decoder when Quirks.SDKIDTokenDecoding is on (see
// DecodeIDTokenAs).
func (d *Device) IDTokenClaims() (IDClaims, error) {
	t := d.Tokens()
	if t.ID == "" {
		return IDClaims{}, fmt.Errorf("%w: %w", ErrIDToken, ErrNoTokens)
	}
	return d.decodeID(t.ID)
}

// DecodeIDToken decodes the payload of a compact id token without verifying
// it: as base64url (RFC 7515), or with stdAlphabet as standard base64
// (which fails on '-' and '_').
func DecodeIDToken(token string, stdAlphabet bool) (IDClaims, error) {
	seg, err := payloadSegment(token)
	if err != nil {
		return IDClaims{}, err
	}
	var raw []byte
	if stdAlphabet {
		seg = strings.TrimRight(seg, "=")
		if n := len(seg) % 4; n != 0 {
			seg += strings.Repeat("=", 4-n)
		}
		raw, err = base64.StdEncoding.DecodeString(seg)
	} else {
		raw, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	}
	if err != nil {
		return IDClaims{}, fmt.Errorf("%w: payload is not base64 (standard alphabet: %v): %w", ErrIDToken, stdAlphabet, err)
	}
	return parseIDClaims(raw)
}

// DecodeIDTokenAs decodes the id token's payload as the platform's SDK
// does: Android with android.util.Base64 DEFAULT (characters outside the
// standard alphabet skipped, so '-' and '_' shift the rest into garbage
// that is not JSON), iOS with Utils.decodeBase64WithString (nil on '-' or
// '_'). Errors wrap ErrIDToken.
func DecodeIDTokenAs(platform Platform, token string) (IDClaims, error) {
	seg, err := payloadSegment(token)
	if err != nil {
		return IDClaims{}, err
	}
	raw, err := sdkOf(platform).decodeIDPayload(seg)
	if err != nil {
		return IDClaims{}, fmt.Errorf("%w: %s SDK decoding: %w", ErrIDToken, platform, err)
	}
	// Java's new String(bytes) replaces invalid UTF-8; the JSON parse then fails as here.
	return parseIDClaims([]byte(strings.ToValidUTF8(string(raw), "\uFFFD")))
}

func payloadSegment(token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return "", fmt.Errorf("%w: %d segments, want 3", ErrIDToken, len(parts))
	}
	return parts[1], nil
}

func parseIDClaims(raw []byte) (IDClaims, error) {
	var c IDClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		return IDClaims{}, fmt.Errorf("%w: payload is not the JSON of id-token claims: %w", ErrIDToken, err)
	}
	if err := json.Unmarshal(raw, &c.Raw); err != nil {
		return IDClaims{}, fmt.Errorf("%w: %w", ErrIDToken, err)
	}
	return c, nil
}
