package reference

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

var (
	rsaKeysOnce sync.Once
	rsaKeys     map[string]*rsa.PrivateKey
)

// rsaTestKeys: the fast path's keys (2048, 3072 bits, e = 65537) and the
// ones crypto/rsa keeps (1024 bits, e = 3).
func rsaTestKeys(t testing.TB) map[string]*rsa.PrivateKey {
	rsaKeysOnce.Do(func() {
		rsaKeys = map[string]*rsa.PrivateKey{}
		for name, bits := range map[string]int{"2048": 2048, "3072": 3072, "1024": 1024} {
			k, err := rsa.GenerateKey(rand.Reader, bits)
			if err != nil {
				panic(err)
			}
			rsaKeys[name] = k
		}
		// e = 3: built by hand (GenerateKey always uses 65537).
		for {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			three := big.NewInt(3)
			phi := new(big.Int).Mul(new(big.Int).Sub(k.Primes[0], big.NewInt(1)), new(big.Int).Sub(k.Primes[1], big.NewInt(1)))
			d := new(big.Int).ModInverse(three, phi)
			if d == nil {
				continue
			}
			k3 := &rsa.PrivateKey{PublicKey: rsa.PublicKey{N: k.N, E: 3}, D: d, Primes: k.Primes}
			k3.Precompute()
			rsaKeys["2048-e3"] = k3
			break
		}
	})
	return rsaKeys
}

// rawSign returns em^d mod N as a modulus-sized signature: any encoded
// message, well formed or not, "signed".
func rawSign(k *rsa.PrivateKey, em []byte) []byte {
	m := new(big.Int).SetBytes(em)
	m.Mod(m, k.N)
	s := new(big.Int).Exp(m, k.D, k.N)
	return s.FillBytes(make([]byte, (k.N.BitLen()+7)/8))
}

func stdVerify(pub *rsa.PublicKey, input, sig []byte) bool {
	d := sha256.Sum256(input)
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], sig) == nil
}

// goodEM is the correct RSASSA-PKCS1-v1_5 SHA-256 encoding of input.
func goodEM(size int, input []byte) []byte {
	d := sha256.Sum256(input)
	em := bytes.Repeat([]byte{0xff}, size)
	em[0], em[1] = 0, 1
	t := append(append([]byte{}, sha256DigestInfo...), d[:]...)
	em[size-len(t)-1] = 0
	copy(em[size-len(t):], t)
	return em
}

func TestPublicKeyPath(t *testing.T) {
	for name, k := range rsaTestKeys(t) {
		fast := newPublicKey(&k.PublicKey).mod != nil
		if want := name == "2048" || name == "3072"; fast != want {
			t.Errorf("key %s: prepared modulus = %v, want %v", name, fast, want)
		}
	}
}

// TestPublicKeyMatchesCryptoRSA holds verifyRS256 to crypto/rsa's answer
// on valid signatures and on every kind of broken one.
func TestPublicKeyMatchesCryptoRSA(t *testing.T) {
	input := []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0")
	for name, k := range rsaTestKeys(t) {
		pk := newPublicKey(&k.PublicKey)
		size := (k.N.BitLen() + 7) / 8
		digest := sha256.Sum256(input)
		good, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		d512 := sha512.Sum512(input)
		sha512Sig, _ := rsa.SignPKCS1v15(nil, k, crypto.SHA512, d512[:])
		flip := func(i int) []byte { s := bytes.Clone(good); s[i] ^= 1; return s }
		em := goodEM(size, input)
		emWith := func(edit func([]byte)) []byte { e := bytes.Clone(em); edit(e); return rawSign(k, e) }
		n := k.N.FillBytes(make([]byte, size))
		nPlus := new(big.Int).Add(k.N, big.NewInt(1)).FillBytes(make([]byte, size))
		cases := []struct {
			name  string
			input []byte
			sig   []byte
			want  bool
		}{
			{"valid", input, good, true},
			{"valid, re-encoded by hand", input, rawSign(k, em), true},
			{"other input", []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ5In0"), good, false},
			{"first byte flipped", input, flip(0), false},
			{"last byte flipped", input, flip(size - 1), false},
			{"one byte short", input, good[1:], false},
			{"leading zero added", input, append([]byte{0}, good...), false},
			{"empty", input, nil, false},
			{"zero", input, make([]byte, size), false},
			{"one", input, append(make([]byte, size-1), 1), false},
			{"N", input, n, false},
			{"N+1", input, nPlus, false},
			{"all ff", input, bytes.Repeat([]byte{0xff}, size), false},
			{"SHA-512 DigestInfo", input, sha512Sig, false},
			{"block type 2", input, emWith(func(e []byte) { e[1] = 2 }), false},
			{"leading byte not zero", input, emWith(func(e []byte) { e[0] = 1 }), false},
			{"padding byte not ff", input, emWith(func(e []byte) { e[5] = 0xfe }), false},
			{"separator not zero", input, emWith(func(e []byte) { e[size-52] = 0xff }), false},
			{"DigestInfo changed", input, emWith(func(e []byte) { e[size-40] ^= 0x01 }), false},
			{"digest changed", input, emWith(func(e []byte) { e[size-1] ^= 0x80 }), false},
			// BER-lenient parsers accept garbage after the digest
			// (Bleichenbacher 2006): the digest shifted left, junk after it.
			{"garbage after digest", input, emWith(func(e []byte) {
				copy(e[size-52-8:], append(append([]byte{0}, sha256DigestInfo...), digest[:]...))
				copy(e[size-8:], "garbage!")
			}), false},
			{"short padding", input, emWith(func(e []byte) { e[9] = 0 }), false},
		}
		for _, c := range cases {
			got, std := pk.verifyRS256(c.input, c.sig), stdVerify(&k.PublicKey, c.input, c.sig)
			if got != std || got != c.want {
				t.Errorf("key %s, %s: verifyRS256 = %v, crypto/rsa = %v, want %v", name, c.name, got, std, c.want)
			}
		}
	}
}

// FuzzPublicKeyVerify: any encoded message, raw-signed with the private key,
// and any input: the prepared-modulus path and crypto/rsa agree.
func FuzzPublicKeyVerify(f *testing.F) {
	k := rsaTestKeys(f)["2048"]
	pk := newPublicKey(&k.PublicKey)
	input := []byte("header.payload")
	em := goodEM(256, input)
	f.Add(em, input, false)
	f.Add(em[1:], input, false)
	f.Add(em, []byte("header.payloaD"), false)
	f.Add(em, input, true)
	f.Fuzz(func(t *testing.T, em, input []byte, rawSig bool) {
		sig := em // the fuzzer's bytes as the signature itself
		if !rawSig {
			if len(em) > 256 {
				return
			}
			sig = rawSign(k, em)
		}
		got, std := pk.verifyRS256(input, sig), stdVerify(&k.PublicKey, input, sig)
		if got != std {
			t.Fatalf("verifyRS256 = %v, crypto/rsa = %v (em %x, input %q)", got, std, em, input)
		}
	})
}

// TestFetchIntoRetiredKey: a key fetched for an appKey that was evicted
// while the fetch was in flight is still installed and returned (with the
// retired generation, so nothing is cached under it).
func TestFetchIntoRetiredKey(t *testing.T) {
	k := rsaTestKeys(t)["2048"]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(tokenfactory.NewPublicKeyJSON(&k.PublicKey))
	}))
	defer srv.Close()
	cfg, err := Config{ServerURL: srv.URL}.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := newKeyStore(&cfg)
	if err != nil {
		t.Fatal(err)
	}
	ak := &appKey{}
	ak.gen.Store(retiredGen)
	got, e := ks.fetchInto(context.Background(), "app", ak)
	if e != nil {
		t.Fatal(e)
	}
	if got.pub == nil || !got.pub.rsa.Equal(&k.PublicKey) || got.pub.mod == nil {
		t.Fatalf("fetched key %+v, want the AZ's, prepared", got.pub)
	}
	if got.gen != retiredGen {
		t.Errorf("generation %d, want retiredGen", got.gen)
	}
}
