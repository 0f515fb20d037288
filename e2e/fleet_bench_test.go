package e2e

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// fleetSize is the number of devices of one fleet run.
const fleetSize = 1000

// fleetConcurrency is the number of devices in flight.
const fleetConcurrency = 16

// fleetTimeout bounds one sub-benchmark's fleets.
const fleetTimeout = 10 * time.Minute

// keyPoolSize is how many device keys are made in advance for the "pool" runs.
const keyPoolSize = 16

// BenchmarkFleet: fleetSize anonymous devices each register, authorize and
// redeem their code at fakeaz, then call the reference target's /protected
// once (which checks both tokens). One iteration is one whole fleet; run it
// with -benchtime 1x. Sub-benchmarks: the device key size, and whether each
// device generates its key (as a real installation does) or takes one from a
// pool made before the timer starts (what a load generator should do).
//
// Metrics: devices/s; per device, the wall time the devices spent generating
// keys, signing and waiting for servers (fakedevice Timings, summed over the
// devices and divided by fleetSize, so with fleetConcurrency devices in
// flight they add up to more than the wall time); cpu-ms/device, the process
// CPU time (devices, fakeaz and the target together) per device.
func BenchmarkFleet(b *testing.B) {
	keys(b)
	for _, bits := range []int{fakedevice.LegacyKeyBits, fakedevice.DefaultKeyBits} {
		for _, pool := range []bool{false, true} {
			mode := "per-device"
			if pool {
				mode = "pool"
			}
			b.Run(fmt.Sprintf("keys=%d/keygen=%s", bits, mode), func(b *testing.B) {
				benchFleet(b, bits, pool)
			})
		}
	}
}

func benchFleet(b *testing.B, bits int, pool bool) {
	ctx, cancel := context.WithTimeout(context.Background(), fleetTimeout)
	defer cancel()
	az := newAZ(b, fakeaz.WithKeyPoolSize(0))
	app := addApp(b, az, fakeaz.App{})
	ts := newTargets(b, az, app.ID, nil)
	var keyPool []*rsa.PrivateKey
	if pool {
		for range keyPoolSize {
			k, err := tokenfactory.GenerateKey(bits, rand.Reader)
			if err != nil {
				b.Fatal(err)
			}
			keyPool = append(keyPool, k)
		}
	}
	cfg := fakedevice.FleetConfig{
		N: fleetSize, Concurrency: fleetConcurrency,
		NewConfig: func(i int) fakedevice.Config {
			c := fakedevice.Config{ServerURL: az.URL(), AppID: app.ID, BundleID: bundleID, KeyBits: bits}
			if pool {
				c.Key = keyPool[i%len(keyPool)]
			}
			if i%2 == 1 {
				c.Platform = fakedevice.PlatformAndroid
			}
			return c
		},
		Then: func(ctx context.Context, d *fakedevice.Device) error {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, ts.protected(), nil)
			if err != nil {
				return err
			}
			resp, err := d.Call(ctx, req)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, _ = io.Copy(io.Discard, resp.Body)
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("/protected answered %d", resp.StatusCode)
			}
			return nil
		},
	}
	var (
		keygen, sign, wait time.Duration
		elapsed, cpu       time.Duration
		runs               int
		last               string
	)
	for b.Loop() {
		cpu0 := cpuTime()
		r, err := fakedevice.RunFleet(ctx, cfg)
		cpu += cpuTime() - cpu0
		if err != nil || r.Succeeded != fleetSize {
			b.Fatalf("fleet: %v\n%s", err, r)
		}
		keygen += r.KeyGen
		sign += r.Sign
		wait += r.Wait
		elapsed += r.Elapsed
		runs++
		last = r.String()
	}
	b.StopTimer()
	devices := float64(runs * fleetSize)
	perDevice := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / devices }
	b.ReportMetric(devices/elapsed.Seconds(), "devices/s")
	b.ReportMetric(perDevice(keygen), "keygen-ms/device")
	b.ReportMetric(perDevice(sign), "sign-ms/device")
	b.ReportMetric(perDevice(wait), "wait-ms/device")
	b.ReportMetric(perDevice(cpu), "cpu-ms/device")
	b.ReportMetric(0, "ns/op") // one op is a whole fleet: devices/s says it better
	b.Logf("last fleet (%d-bit device keys, keygen %s):\n%s", bits, map[bool]string{true: "from a pool", false: "per device"}[pool], last)
}

// cpuTime is the user + system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRSA gives the unit costs behind the fleet figures: one signature
// (PKCS#1 v1.5, SHA-256) and one key generation per key size. Per device the
// chain costs 2 device-key signatures (CSR, code proof), 3 RSA-2048
// signatures at the AZ (client certificate, access token, id token), a
// handful of cheap verifications (e = 65537) and, without a pool, one key
// generation.
func BenchmarkRSA(b *testing.B) {
	for _, bits := range []int{fakedevice.LegacyKeyBits, fakedevice.DefaultKeyBits} {
		key, err := tokenfactory.GenerateKey(bits, rand.Reader)
		if err != nil {
			b.Fatal(err)
		}
		digest := sha256.Sum256([]byte("e2e"))
		b.Run(fmt.Sprintf("sign/%d", bits), func(b *testing.B) {
			for b.Loop() {
				if _, err := rsa.SignPKCS1v15(nil, key, crypto.SHA256, digest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("keygen/%d", bits), func(b *testing.B) {
			for b.Loop() {
				if _, err := tokenfactory.GenerateKey(bits, rand.Reader); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
