package fakedevice

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Quirks reproduce encodings and bugs of the real iOS and Android SDKs. The
// zero value is a well-behaved client; RealSDKQuirks turns every one on.
type Quirks struct {
	// PaddedBase64 encodes the segments of the JWS the device signs (the
	// CSR and the X-WL-Authenticate proof) as base64url *with* '=' padding.
	PaddedBase64 bool
	// StdAlphabetJPK writes the jpk "mod" and "exp" in the standard base64
	// alphabet (padded), with '/' JSON-escaped as "\/".
	StdAlphabetJPK bool
	// LeadingZeroModulus prepends a 0x00 byte to the modulus in jpk (the
	// two's-complement encoding Java's BigInteger.toByteArray produces).
	LeadingZeroModulus bool
	// StdBase64IDToken decodes the id-token payload with the standard
	// base64 alphabet, as both SDKs did: IDTokenClaims then fails on a
	// payload whose base64url contains '-' or '_' (e.g. a non-ASCII display
	// name), exactly where real clients broke.
	StdBase64IDToken bool
}

// RealSDKQuirks returns Quirks with every quirk on. Pair it with
// KeyBits: LegacyKeyBits for a device as close to the real SDKs as possible.
func RealSDKQuirks() Quirks {
	return Quirks{PaddedBase64: true, StdAlphabetJPK: true, LeadingZeroModulus: true, StdBase64IDToken: true}
}

// jpk is the public key as it rides in the JWS header.
type jpk struct {
	Alg string `json:"alg"`
	Mod string `json:"mod"`
	Exp string `json:"exp"`
}

func (q Quirks) jpkOf(pub *rsa.PublicKey) jpk {
	mod := pub.N.Bytes()
	if q.LeadingZeroModulus {
		mod = append([]byte{0}, mod...)
	}
	exp := big.NewInt(int64(pub.E)).Bytes()
	enc := tokenfactory.B64.EncodeToString
	if q.StdAlphabetJPK {
		enc = base64.StdEncoding.EncodeToString
	}
	return jpk{Alg: "RSA", Mod: enc(mod), Exp: enc(exp)}
}

func (q Quirks) segEncoding() *base64.Encoding {
	if q.PaddedBase64 {
		return base64.URLEncoding
	}
	return base64.RawURLEncoding
}

// header returns the JSON header {"alg":"RS256","jpk":{...}}.
func (q Quirks) header(pub *rsa.PublicKey) []byte {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		JPK jpk    `json:"jpk"`
	}{tokenfactory.RS256, q.jpkOf(pub)})
	if q.StdAlphabetJPK {
		// Only mod and exp can hold '/': escape it as the SDKs' JSON writers did.
		h = []byte(strings.ReplaceAll(string(h), "/", `\/`))
	}
	return h
}

// sign returns the compact JWS RS256 of payload under key, with the device's
// public key in the jpk header, encoded according to the quirks.
func (q Quirks) sign(key *rsa.PrivateKey, payload []byte) (string, error) {
	enc := q.segEncoding()
	var b strings.Builder
	b.WriteString(enc.EncodeToString(q.header(&key.PublicKey)))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(payload))
	sig, err := jwsbb.Sign(key, tokenfactory.RS256, []byte(b.String()), nil)
	if err != nil {
		return "", err
	}
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(sig))
	return b.String(), nil
}
