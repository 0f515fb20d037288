package tokenfactory

import (
	"bytes"
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
	"time"
)

// Mutations that break the choice of key: keys rendered as HMAC secrets, keys the token carries or points at, key ids, weak keys.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// KeyForm is a textual form of an RSA public key (KeyBytes), used as an
// HMAC secret by HS256WithPublicKey.
type KeyForm string

// Forms of a public key.
const (
	// KeyPKCS1PEM is the PKCS#1 PEM exactly as the npm package rsa-pem-from-mod-exp
	// prints it ("-----BEGIN RSA PUBLIC KEY-----", 64-column lines, trailing newline);
	// the npm MCA strategy builds its verification key with that package.
	KeyPKCS1PEM          KeyForm = "pkcs1-pem"
	KeyPKCS1PEMNoNewline KeyForm = "pkcs1-pem-no-newline"
	KeySPKIPEM           KeyForm = "spki-pem"
	KeySPKIPEMNoNewline  KeyForm = "spki-pem-no-newline"
	KeyPKCS1DER          KeyForm = "pkcs1-der"
	KeySPKIDER           KeyForm = "spki-der"
	// KeyPublicKeyJSON is the AZ's publickey endpoint body, {"kty":"RSA","n":...,"e":...}.
	KeyPublicKeyJSON KeyForm = "publickey-json"
)

// KeyForms lists every form of KeyBytes (a new slice on each call).
func KeyForms() []KeyForm {
	return []KeyForm{KeyPKCS1PEM, KeyPKCS1PEMNoNewline, KeySPKIPEM, KeySPKIPEMNoNewline, KeyPKCS1DER, KeySPKIDER, KeyPublicKeyJSON}
}

// KeyBytes renders a public key in one of the KeyForms.
func KeyBytes(pub *rsa.PublicKey, form KeyForm) ([]byte, error) {
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

// EmbedParam is a header parameter through which a token can embed its own
// key (see EmbeddedKey).
type EmbedParam string

// Header parameters that carry a key.
const (
	EmbedJPK EmbedParam = "jpk"
	EmbedJWK EmbedParam = "jwk"
	EmbedX5C EmbedParam = "x5c"
)

// EmbeddedKey signs with the attacker's key and embeds the attacker's public
// key in the header (jpk as MCA tokens carry it, a JWK, or a self-signed
// certificate chain in x5c), hoping the validator trusts the token's own key.
func EmbeddedKey(param EmbedParam, attacker *rsa.PrivateKey) Mutation {
	return Mutation{
		Name:    "embedded-key/" + string(param),
		Doc:     fmt.Sprintf("Signed by an attacker key that the header carries in %s.", param),
		WithKey: func(k *rsa.PrivateKey) Mutation { return EmbeddedKey(param, k) },
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
			dr.Sign = signRS256By(attacker)
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

// KeyURLParam is a header parameter that points at a key by URL (see KeyURL).
type KeyURLParam string

// Header parameters that carry a key URL.
const (
	URLJKU KeyURLParam = "jku"
	URLX5U KeyURLParam = "x5u"
)

// KeyURL signs with the attacker's key and points jku or x5u at url, where
// the attacker serves that key. A validator must not fetch it.
func KeyURL(param KeyURLParam, url string, attacker *rsa.PrivateKey) Mutation {
	return Mutation{
		Name: "key-url/" + string(param),
		Doc:  fmt.Sprintf("Signed by an attacker key that the header's %s points at.", param),
		Before: func(dr *Draft, _ Env) error {
			if param != URLJKU && param != URLX5U {
				return fmt.Errorf("unknown header parameter %q", param)
			}
			dr.Header[string(param)] = url
			dr.Sign = signRS256By(attacker)
			return nil
		},
	}
}

// KeyID sets the "kid" header to kid (e.g. "../../publickey", "/dev/null"),
// signature valid under the signer's key.
func KeyID(kid string) Mutation {
	return editDraft("kid/"+kid, fmt.Sprintf("The header's kid is %q.", kid), func(dr *Draft, _ Env) {
		dr.Header["kid"] = kid
	})
}

// SignedWithExponentOne signs for an RSA "key" whose public exponent is 1:
// the signature is the PKCS #1 v1.5 encoded message itself, padded to the
// modulus size of Env.Key (so the one who publishes {n, e = 1} needs no
// private key at all). Pair it with a publickey body of WeakKeyJSON(n, 1).
func SignedWithExponentOne() Mutation {
	return editDraft("weak-key/exponent-one", "Signed for a public key with e = 1: the signature is the encoded message itself.",
		func(dr *Draft, _ Env) {
			dr.Sign = func(input []byte, e Env) ([]byte, error) {
				return PKCS1v15SHA256Message(input, (e.Key.N.BitLen()+7)/8)
			}
		})
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
