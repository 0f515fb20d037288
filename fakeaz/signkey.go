package fakeaz

import (
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/mcaspec/mcaspec/internal/fileio"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// MinSigningKeyBits is the smallest signing key WithSigningKey and LoadKey accept.
const MinSigningKeyBits = 2048

// ErrSigningKey is wrapped when a signing key cannot be used (not RSA, too small, unreadable).
var ErrSigningKey = errors.New("fakeaz: unusable signing key")

// WithSigningKey makes key the signing key of every app when it is registered, so that several
// fakeaz processes (or hosts) given the same key issue tokens that verify with the same public
// key and kid. RotateKey still gives an app a fresh key. A key that is nil, smaller than
// MinSigningKeyBits or larger than tokenfactory accepts is reported by Err and Start.
func WithSigningKey(key *rsa.PrivateKey) Option {
	return func(s *Server) {
		if err := checkSigningKey(key); err != nil {
			s.initErr = errors.Join(s.initErr, fmt.Errorf("WithSigningKey: %w", err))
			return
		}
		s.fixedKey = key
	}
}

func checkSigningKey(key *rsa.PrivateKey) error {
	if key == nil {
		return fmt.Errorf("%w: the key is nil", ErrSigningKey)
	}
	if bits := key.N.BitLen(); bits < MinSigningKeyBits {
		return fmt.Errorf("%w: %d bits, want at least %d", ErrSigningKey, bits, MinSigningKeyBits)
	}
	if err := tokenfactory.CheckKeySize(key.N.BitLen()); err != nil {
		return fmt.Errorf("%w: %w", ErrSigningKey, err)
	}
	return nil
}

// firstSigningKey is the key of a newly registered app: the WithSigningKey key, else a fresh one.
func (s *Server) firstSigningKey() (*signingKey, error) {
	if s.fixedKey == nil {
		return s.newSigningKey()
	}
	sum := sha256.Sum256(s.fixedKey.N.Bytes())
	return &signingKey{priv: s.fixedKey, kid: hex.EncodeToString(sum[:8]), created: s.now()}, nil
}

// maxKeyFile caps a PEM key file read by LoadKey.
const maxKeyFile = 1 << 20

// LoadKey reads an RSA private key (at least MinSigningKeyBits) from a PEM file: PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), as openssl and WriteKey write them.
func LoadKey(path string) (*rsa.PrivateKey, error) {
	b, err := fileio.ReadFile(path, maxKeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSigningKey, err)
	}
	key, err := ParseKey(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// ParseKey is LoadKey for PEM bytes.
func ParseKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	blk, _ := pem.Decode(pemBytes)
	if blk == nil {
		return nil, fmt.Errorf("%w: no PEM block (want an RSA private key, PKCS#1 or PKCS#8)", ErrSigningKey)
	}
	var key *rsa.PrivateKey
	switch blk.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSigningKey, err)
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrSigningKey, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("%w: a %T key, want RSA", ErrSigningKey, k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("%w: PEM block %q, want \"RSA PRIVATE KEY\" or \"PRIVATE KEY\"", ErrSigningKey, blk.Type)
	}
	if err := checkSigningKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// WriteKey generates an RSA-2048 key and writes it to path as PKCS#8 PEM, mode 0600. It
// refuses to overwrite an existing file (the error wraps fs.ErrExist).
func WriteKey(path string) (*rsa.PrivateKey, error) {
	key, err := tokenfactory.GenerateKey(MinSigningKeyBits, nil)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := fileio.CreateExclusive(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, fmt.Errorf("write key: %w", err)
	}
	return key, nil
}
