package tokenfactory_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// BenchmarkMint compares minting an access token with the raw cost of one
// RSA-2048 PKCS#1 v1.5 signature over the same signing input, in one run.
// The target is mint/raw-sign <= 1.2 (see the "ratio" metric of Mint).
//
//	go test -run '^$' -bench Mint -benchtime 400x ./tokenfactory/
func BenchmarkMint(b *testing.B) {
	f, err := tokenfactory.New(testKey(b))
	if err != nil {
		b.Fatal(err)
	}
	a := tokenfactory.Access{AppID: testApp, ClientID: "bench-client"}
	tok, _ := f.AccessToken(a)
	input := []byte(tok[:strings.LastIndexByte(tok, '.')])
	var raw time.Duration
	b.Run("RawSign", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			h := sha256.Sum256(input)
			if _, err := rsa.SignPKCS1v15(rand.Reader, testKey(b), crypto.SHA256, h[:]); err != nil {
				b.Fatal(err)
			}
		}
		raw = time.Since(start) / time.Duration(b.N)
	})
	b.Run("Mint", func(b *testing.B) {
		start := time.Now()
		for b.Loop() {
			if _, err := f.AccessToken(a); err != nil {
				b.Fatal(err)
			}
		}
		if raw > 0 {
			b.ReportMetric(float64(time.Since(start)/time.Duration(b.N))/float64(raw), "ratio")
		}
	})
}
