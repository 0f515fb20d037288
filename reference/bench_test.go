package reference_test

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// BenchmarkValidateCacheHit: a validated header presented again.
func BenchmarkValidateCacheHit(b *testing.B) {
	f := newFixture(b, nil)
	h := f.pair(b)
	ctx := context.Background()
	if _, err := f.v.Validate(ctx, appA, h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := f.v.Validate(ctx, appA, h); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateFull: access + id token, every check and both signatures
// (the caches are off; the key is already fetched). It also times, over the
// same tokens in the same run, two raw rsa.VerifyPKCS1v15 calls with the
// SHA-256 digests precomputed (2xrsa) and with the hashing included
// (2xsha+rsa), and reports the figures and the ratios.
func BenchmarkValidateFull(b *testing.B) {
	f := newFixture(b, func(c *reference.Config) { c.CacheSize = -1 })
	at, it := f.access(b, f.fa, appA, "client-1"), f.id(b, f.fa, appA, "client-1")
	h := "Bearer " + at + " " + it
	ctx := context.Background()
	if _, err := f.v.Validate(ctx, appA, h); err != nil {
		b.Fatal(err)
	}
	pub := f.fa.PublicKey()
	type raw struct {
		input  []byte
		digest [32]byte
		sig    []byte
	}
	var toks [2]raw
	for i, tok := range []string{at, it} {
		d := strings.LastIndexByte(tok, '.')
		toks[i].input = []byte(tok[:d])
		toks[i].digest = sha256.Sum256(toks[i].input)
		toks[i].sig, _ = tokenfactory.B64.DecodeString(tok[d+1:])
	}
	rsa2 := func() {
		for _, t := range toks {
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, t.digest[:], t.sig); err != nil {
				b.Fatal(err)
			}
		}
	}
	rsa2hash := func() {
		for _, t := range toks {
			digest := sha256.Sum256(t.input)
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], t.sig); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	var full, base, baseHash time.Duration
	n := 0
	for b.Loop() {
		// Interleaved, in alternating order, so both see the same machine load.
		validate := func() {
			t0 := time.Now()
			if _, err := f.v.Validate(ctx, appA, h); err != nil {
				b.Fatal(err)
			}
			full += time.Since(t0)
		}
		raw := func() {
			t0 := time.Now()
			rsa2()
			t1 := time.Now()
			rsa2hash()
			base += t1.Sub(t0)
			baseHash += time.Since(t1)
		}
		if n%2 == 0 {
			validate()
			raw()
		} else {
			raw()
			validate()
		}
		n++
	}
	b.ReportMetric(float64(full.Nanoseconds())/float64(n), "validate-ns/op")
	b.ReportMetric(float64(base.Nanoseconds())/float64(n), "2xrsa-ns/op")
	b.ReportMetric(float64(baseHash.Nanoseconds())/float64(n), "2xsha+rsa-ns/op")
	b.ReportMetric(float64(full)/float64(base), "ratio")
	b.ReportMetric(testing.AllocsPerRun(20, func() { _, _ = f.v.Validate(ctx, appA, h) }), "validate-allocs/op")
	b.ReportMetric(float64(full)/float64(baseHash), "ratio-hash")
}
