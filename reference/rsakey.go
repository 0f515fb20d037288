package reference

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"math/big"

	"filippo.io/bigmod"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// publicKey is an app's RSA public key prepared for RS256 verification.
//
// crypto/rsa rebuilds the key's Montgomery modulus on every verification:
// about a third of the cost of an RSA-2048 verify, on the path every cold
// request takes twice. publicKey builds it once per key, with
// filippo.io/bigmod (the exported copy of the standard library's
// crypto/internal/fips140/bigmod, the arithmetic crypto/rsa itself uses),
// and checks the PKCS #1 v1.5 encoding as crypto/rsa does: the expected
// encoded message is built and compared whole. Keys outside the common case
// (exponent 65537, a modulus of 2048 bits or more) go through crypto/rsa.
// TestPublicKeyMatchesCryptoRSA and FuzzPublicKeyVerify hold the two paths
// to the same answers.
type publicKey struct {
	rsa *rsa.PublicKey
	mod *bigmod.Modulus // nil: verify through crypto/rsa
	// emPrefix is the RSASSA-PKCS1-v1_5 encoded message up to the digest:
	// 0x00 0x01 0xff... 0x00 DigestInfo(SHA-256) (RFC 8017 §9.2).
	emPrefix []byte
}

// sha256DigestInfo is the DER DigestInfo prefix of a SHA-256 digest (RFC 8017 §9.2 note 1).
var sha256DigestInfo = []byte{0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04, 0x20}

func newPublicKey(pub *rsa.PublicKey) *publicKey {
	k := &publicKey{rsa: pub}
	if pub == nil || pub.N == nil || pub.E != 65537 || pub.N.BitLen() < 2048 || pub.N.Bit(0) == 0 {
		return k
	}
	m, err := bigmod.NewModulus(pub.N.Bytes())
	if err != nil {
		return k
	}
	size := m.Size()
	em := make([]byte, size-sha256.Size)
	em[1] = 0x01
	ps := size - sha256.Size - len(sha256DigestInfo) - 1
	for i := 2; i < ps; i++ {
		em[i] = 0xff
	}
	copy(em[ps+1:], sha256DigestInfo)
	k.mod, k.emPrefix = m, em
	return k
}

// verifyRS256 reports whether sig is a valid RSASSA-PKCS1-v1_5 SHA-256
// signature of input.
func (k *publicKey) verifyRS256(input, sig []byte) bool {
	digest := sha256.Sum256(input)
	if k.rsa.E < 3 || k.rsa.N.BitLen() < 1024 {
		return weakVerify(k.rsa, input, sig) // reachable only through InsecureAcceptWeakKeys
	}
	if k.mod == nil {
		return rsa.VerifyPKCS1v15(k.rsa, crypto.SHA256, digest[:], sig) == nil
	}
	if len(sig) != k.mod.Size() {
		return false
	}
	s, err := bigmod.NewNat().SetBytes(sig, k.mod) // refuses s >= N
	if err != nil {
		return false
	}
	em := s.ExpShortVarTime(s, 65537, k.mod).Bytes(k.mod)
	n := len(k.emPrefix)
	return bytes.Equal(em[:n], k.emPrefix) && bytes.Equal(em[n:], digest[:])
}

// weakVerify checks a PKCS #1 v1.5 SHA-256 signature by textbook
// arithmetic, for keys crypto/rsa refuses (e = 1, tiny moduli): only
// InsecureAcceptWeakKeys lets such a key in.
func weakVerify(pub *rsa.PublicKey, input, sig []byte) bool {
	size := (pub.N.BitLen() + 7) / 8
	s := new(big.Int).SetBytes(sig)
	if len(sig) != size || s.Cmp(pub.N) >= 0 {
		return false
	}
	want, err := tokenfactory.PKCS1v15SHA256Message(input, size)
	if err != nil {
		return false
	}
	return bytes.Equal(new(big.Int).Exp(s, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, size)), want)
}
