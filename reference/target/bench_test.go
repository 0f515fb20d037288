package target_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// BenchmarkColdRequest: the reference target's whole handler (routing, the
// middleware, both signatures, the security context, the JSON answer) with
// the validation cache off, so every request verifies two RSA-2048
// signatures, as in the bench's cold scenario but without the HTTP
// connection. Two raw rsa.VerifyPKCS1v15 calls (with SHA-256) over the same
// tokens are timed in the same loop, interleaved; "ratio" is the handler's
// time over theirs (the cold target: at most 1.5).
func BenchmarkColdRequest(b *testing.B) {
	az := newStubAZ(b)
	s, err := target.New(target.Config{ServerURL: az.serverURL, Validator: reference.Config{CacheSize: -1}})
	if err != nil {
		b.Fatal(err)
	}
	pub := az.f.PublicKey()
	type pair struct {
		header string
		inputs [2][]byte
		sigs   [2][]byte
	}
	pairs := make([]pair, 16)
	for i := range pairs {
		client := fmt.Sprintf("client-%d", i)
		at, err := az.f.AccessToken(tokenfactory.Access{AppID: appA, ClientID: client})
		if err != nil {
			b.Fatal(err)
		}
		it, err := az.f.IDToken(tokenfactory.ID{AppID: appA, ClientID: client})
		if err != nil {
			b.Fatal(err)
		}
		pairs[i].header = "Bearer " + at + " " + it
		for j, tok := range []string{at, it} {
			d := strings.LastIndexByte(tok, '.')
			pairs[i].inputs[j] = []byte(tok[:d])
			if pairs[i].sigs[j], err = tokenfactory.B64.DecodeString(tok[d+1:]); err != nil {
				b.Fatal(err)
			}
		}
	}
	serve := func(p *pair) {
		r := httptest.NewRequest(http.MethodGet, "/v1/apps/"+appA+"/protected", nil)
		r.Header.Set("Authorization", p.header)
		w := httptest.NewRecorder()
		s.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	verify2 := func(p *pair) {
		for j := range p.inputs {
			d := sha256.Sum256(p.inputs[j])
			if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, d[:], p.sigs[j]); err != nil {
				b.Fatal(err)
			}
		}
	}
	serve(&pairs[0]) // fetches the key
	var handler, raw time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		p := &pairs[n%len(pairs)]
		// Alternating order, so both see the same machine load.
		t0 := time.Now()
		if n%2 == 0 {
			serve(p)
			t1 := time.Now()
			verify2(p)
			handler, raw = handler+t1.Sub(t0), raw+time.Since(t1)
		} else {
			verify2(p)
			t1 := time.Now()
			serve(p)
			raw, handler = raw+t1.Sub(t0), handler+time.Since(t1)
		}
		n++
	}
	b.ReportMetric(float64(handler.Nanoseconds())/float64(n), "handler-ns/op")
	b.ReportMetric(float64(raw.Nanoseconds())/float64(n), "2xverify-ns/op")
	b.ReportMetric(float64(handler)/float64(raw), "ratio")
}
