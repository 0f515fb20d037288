package fakedevice

import (
	"bytes"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Quirks are the encodings and bugs of a real SDK. A nil Config.Quirks means
// SDKQuirks(Config.Platform): the device sends what that platform's SDK sent.
// &Quirks{} is a well-behaved client no SDK ever was (unpadded base64url
// everywhere, no leading zero, no escaped slashes, RFC 7515 id-token
// decoding).
type Quirks struct {
	// PaddedBase64 encodes the three segments of the JWS the device signs
	// (the CSR and the X-WL-Authenticate proof) as base64url *with* '='
	// padding, as both SDKs did.
	PaddedBase64 bool
	// StdAlphabetJPK writes the jpk "mod" and "exp" in the standard base64
	// alphabet, padded (iOS: Data.base64EncodedString).
	StdAlphabetJPK bool
	// PaddedJPK writes the jpk "mod" and "exp" as base64url with padding
	// (Android: Base64.URL_SAFE|NO_WRAP). Ignored with StdAlphabetJPK.
	PaddedJPK bool
	// LeadingZeroModulus prepends a 0x00 byte to the modulus in jpk (Java's
	// BigInteger.toByteArray on Android, the DER INTEGER's content on iOS).
	LeadingZeroModulus bool
	// EscapeSlashes writes '/' as "\/" in the JSON of the JWS header and
	// payload, as Android's org.json and iOS's JSONSerialization do (with the
	// standard-alphabet jpk of iOS this is visible in "mod").
	EscapeSlashes bool
	// SDKIDTokenDecoding decodes the id token's payload as the platform's
	// SDK does after the token request (see Device.ObtainTokens): Android's
	// Base64.DEFAULT skips '-' and '_' and the authorization fails although
	// the tokens were saved; iOS's decoder gives nil and only the user
	// identity is lost. Without it the payload is decoded as RFC 7515 says.
	SDKIDTokenDecoding bool
}

// SDKQuirks returns the quirks of the platform's real SDK:
//
//   - Android (security/mca/internal/certificate/DefaultJSONSigner.java,
//     sign and encodeUrlSafe): segments and jpk base64url padded, modulus
//     with a leading zero (BigInteger.toByteArray), '/' escaped by org.json.
//   - iOS (Source/mca/internal/certificate/SecurityUtils.swift lines 150-200,
//     Utils.swift base64StringFromData): segments base64url padded, jpk in
//     the standard alphabet padded, modulus with its DER leading zero, '/'
//     escaped by JSONSerialization. Checked against the SDK's own test vector
//     (testdata/sdk-vectors.json).
//
// Both decode the id token with their own decoder (SDKIDTokenDecoding).
func SDKQuirks(platform Platform) Quirks { return sdkOf(platform).quirks }

// RealSDKQuirks returns the iOS SDK's quirks (SDKQuirks(PlatformIOS)).
//
// Deprecated: use SDKQuirks with the device's platform, or leave
// Config.Quirks nil.
func RealSDKQuirks() Quirks { return SDKQuirks(PlatformIOS) }

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
	switch {
	case q.StdAlphabetJPK:
		enc = base64.StdEncoding.EncodeToString
	case q.PaddedJPK:
		enc = base64.URLEncoding.EncodeToString
	}
	return jpk{Alg: "RSA", Mod: enc(mod), Exp: enc(exp)}
}

func (q Quirks) segEncoding() *base64.Encoding {
	if q.PaddedBase64 {
		return base64.URLEncoding
	}
	return base64.RawURLEncoding
}

// marshal writes v as compact JSON the way the SDKs' writers do: no HTML
// escaping, and '/' as "\/" with EscapeSlashes.
func (q Quirks) marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSpace(buf.Bytes())
	if q.EscapeSlashes {
		// '/' only occurs inside JSON strings here, so escaping every one is exact.
		b = []byte(strings.ReplaceAll(string(b), "/", `\/`))
	}
	return b, nil
}

// header returns the JSON header {"alg":"RS256","jpk":{...}}.
func (q Quirks) header(pub *rsa.PublicKey) ([]byte, error) {
	return q.marshal(struct {
		Alg string `json:"alg"`
		JPK jpk    `json:"jpk"`
	}{tokenfactory.RS256, q.jpkOf(pub)})
}

// sign returns the compact JWS RS256 of payload (a value marshalled with
// q.marshal) under key, with the device's public key in the jpk header,
// encoded according to the quirks.
func (q Quirks) sign(key *rsa.PrivateKey, payload any) (string, error) {
	h, err := q.header(&key.PublicKey)
	if err != nil {
		return "", err
	}
	p, err := q.marshal(payload)
	if err != nil {
		return "", err
	}
	enc := q.segEncoding()
	var b strings.Builder
	b.WriteString(enc.EncodeToString(h))
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(p))
	sig, err := jwsbb.Sign(key, tokenfactory.RS256, []byte(b.String()), nil)
	if err != nil {
		return "", err
	}
	b.WriteByte('.')
	b.WriteString(enc.EncodeToString(sig))
	return b.String(), nil
}
