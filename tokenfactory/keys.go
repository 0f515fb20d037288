package tokenfactory

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// GenerateKey makes an RSA key of the given size (0 means DefaultKeyBits).
// r nil means crypto/rand. Sizes outside MinKeyBits..MaxKeyBits are refused.
//
// Go's crypto/rsa refuses to generate keys under 1024 bits unless the
// program runs with GODEBUG=rsa1024min=0; GenerateKey sets nothing global, so
// 512-bit device keys need that setting (fakedevice documents it).
func GenerateKey(bits int, r io.Reader) (*rsa.PrivateKey, error) {
	if bits == 0 {
		bits = DefaultKeyBits
	}
	if err := CheckKeySize(bits); err != nil {
		return nil, err
	}
	if r == nil {
		r = rand.Reader
	}
	return rsa.GenerateKey(r, bits)
}

// PublicKeyJSON is the body of the AZ's publickey endpoint: {"kty":"RSA","n":...,"e":...}.
type PublicKeyJSON struct {
	Kty string `json:"kty"`
	N   string `json:"n"`
	E   string `json:"e"`
}

// NewPublicKeyJSON encodes pub as the publickey endpoint does (unpadded base64url).
func NewPublicKeyJSON(pub *rsa.PublicKey) PublicKeyJSON {
	return PublicKeyJSON{Kty: "RSA", N: B64.EncodeToString(pub.N.Bytes()), E: B64.EncodeToString(bigEndian(pub.E))}
}

// ErrBadKey is wrapped by the errors of ParsePublicKeyJSON and DecodeModExp.
var ErrBadKey = errors.New("bad RSA public key")

// ParsePublicKeyJSON decodes a publickey endpoint body. Only n and e are read,
// as the real strategies did.
func ParsePublicKeyJSON(body []byte) (*rsa.PublicKey, error) {
	var k PublicKeyJSON
	if err := json.Unmarshal(body, &k); err != nil {
		return nil, fmt.Errorf("%w: not a JSON object with n and e: %w", ErrBadKey, err)
	}
	return DecodeModExp(k.N, k.E)
}

// DecodeModExp builds a public key from a base64 modulus and exponent,
// accepting every encoding real clients sent: base64url with or without '='
// padding, the standard alphabet (including JSON-escaped "\/"), and a leading
// zero byte on the modulus.
func DecodeModExp(mod, exp string) (*rsa.PublicKey, error) {
	n, err := DecodeLenient(mod)
	if err != nil || len(n) == 0 {
		return nil, fmt.Errorf("%w: modulus is not base64: %w", ErrBadKey, err)
	}
	e, err := DecodeLenient(exp)
	if err != nil || len(e) == 0 || len(e) > 4 {
		return nil, fmt.Errorf("%w: exponent is not a small base64 integer", ErrBadKey)
	}
	ev := 0
	for _, b := range e {
		ev = ev<<8 | int(b)
	}
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: ev}
	if ev < 3 || ev%2 == 0 {
		return nil, fmt.Errorf("%w: exponent %d", ErrBadKey, ev)
	}
	if err := CheckKeySize(pub.N.BitLen()); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return pub, nil
}

// DecodeLenient decodes base64 in either alphabet, padded or not, with
// JSON-escaped slashes ("\/") tolerated.
func DecodeLenient(s string) ([]byte, error) {
	s = strings.ReplaceAll(s, `\/`, "/")
	s = strings.TrimRight(s, "=")
	s = strings.Map(func(r rune) rune {
		switch r {
		case '+':
			return '-'
		case '/':
			return '_'
		}
		return r
	}, s)
	return base64.RawURLEncoding.DecodeString(s)
}
