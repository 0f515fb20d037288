package reference_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// floodRate is the junk request rate of BenchmarkNewAppDuringFlood, the
// rate the issue measured (8 threads, about 2,400 requests a second).
const floodRate = 2400

// BenchmarkNewAppDuringFlood floods the validator with tokens for random
// app ids (each token's aud matching its path, so a key must be looked up)
// at floodRate a second, while a legitimate app, just registered at the
// AZ, sends a request every 100 ms until one is answered. Each iteration
// is one new legitimate app; the figures are the time to its first
// answer (ms-to-serve) and how many 503s it got first (503s/app).
//
//	go test -run '^$' -bench NewAppDuringFlood -benchtime 10x ./reference/
func BenchmarkNewAppDuringFlood(b *testing.B) {
	ks := testKeys(b)
	az := newTestAZ(b)
	fac, err := tokenfactory.New(ks[0], tokenfactory.WithIssuer(tokenfactory.MCAIssuer(az.serverURL)))
	if err != nil {
		b.Fatal(err)
	}
	v, err := reference.New(reference.Config{ServerURL: az.serverURL})
	if err != nil {
		b.Fatal(err)
	}
	template, err := fac.AccessToken(tokenfactory.Access{AppID: "f100d000-0000-4000-8000-000000000000", ClientID: "c"})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var junk atomic.Int64
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			flood(ctx, v, template, uint64(w), &junk)
		}()
	}
	// One second of flood first: the new-app budget is spent when timing starts.
	for junk.Load() < floodRate {
		time.Sleep(10 * time.Millisecond)
	}
	fetches0, junk0 := v.KeyFetches(), junk.Load()
	var total time.Duration
	var refused int
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		app := fmt.Sprintf("1e917000-0000-4000-8000-%012d", i)
		az.setKey(app, &ks[0].PublicKey)
		tok, err := fac.AccessToken(tokenfactory.Access{AppID: app, ClientID: "c"})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			_, err := v.Validate(ctx, app, "Bearer "+tok)
			if err == nil {
				break
			}
			var e *reference.Error
			if !errors.As(err, &e) || e.Status != 503 {
				b.Fatalf("legitimate app: %v", err)
			}
			refused++
			if time.Since(start) > 10*time.Second {
				b.Fatalf("legitimate app refused for 10 s (%d 503s)", refused)
			}
			time.Sleep(100 * time.Millisecond) // the client's retry interval
		}
		total += time.Since(start)
	}
	b.StopTimer()
	elapsed := b.Elapsed()
	cancel()
	wg.Wait()
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms-to-serve")
	b.ReportMetric(float64(refused)/float64(b.N), "503s/app")
	b.ReportMetric(float64(junk.Load()-junk0)/elapsed.Seconds(), "junk-req/s")
	b.ReportMetric(float64(v.KeyFetches()-fetches0)/elapsed.Seconds(), "key-fetches/s")
}

// flood sends floodRate/8 requests a second for random app ids until ctx
// ends: the template token with its aud replaced (the signature is left
// wrong: the key must be fetched before it can be checked).
func flood(ctx context.Context, v *reference.Validator, template string, seed uint64, n *atomic.Int64) {
	rng := rand.New(rand.NewPCG(seed, 42))
	parts := strings.Split(template, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tick := time.NewTicker(time.Second / (floodRate / 8))
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		app := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xfff, rng.Uint32()&0xfff, rng.Uint64()&0xffffffffffff)
		p := strings.Replace(string(payload), "f100d000-0000-4000-8000-000000000000", app, 1)
		tok := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(p)) + "." + parts[2]
		_, _ = v.Validate(ctx, app, "Bearer "+tok)
		n.Add(1)
	}
}
