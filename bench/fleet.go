package bench

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakedevice"
	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// runFleet drives the fleet scenario: devices log in through the fake AZ and
// call the target; each call becomes a vegeta Result checked like any other.
func runFleet(ctx context.Context, r *runner, t *running, o attackOpts) (*Attack, error) {
	key := r.cfg.DeviceKey
	if key == nil {
		var err error
		if key, err = rsa.GenerateKey(rand.Reader, 1024); err != nil {
			return nil, fmt.Errorf("bench: fleet device key: %w", err)
		}
	}
	a := &Attack{Target: t.spec.Name, Scenario: "fleet", Name: o.name, Duration: o.duration}
	l := &load{}
	c, closeFile, err := newCollector(a, l, t, o, r.cfg)
	if err != nil {
		return nil, err
	}
	defer closeFile()
	if err := r.waitStart(ctx); err != nil {
		return nil, err
	}
	var seq atomic.Uint64
	before, procErr := groupStats(t.pid)
	fetches := fetchCount(r.env.stats(ctx))
	sinkBefore := r.env.sinkHits()
	ctx, cancel := context.WithTimeout(ctx, max(o.duration*6, 30*time.Second))
	defer cancel()
	c.start(time.Now(), 0)
	conc := int(min(r.cfg.MaxWorkers, 64))
	res, err := fakedevice.RunFleet(ctx, fakedevice.FleetConfig{
		N: r.cfg.FleetSize, Concurrency: conc,
		NewConfig: func(i int) fakedevice.Config {
			return fakedevice.Config{ServerURL: r.env.serverURL(), AppID: r.env.app.ID, BundleID: bundleID, Key: key, HTTPClient: r.client}
		},
		Then: func(ctx context.Context, d *fakedevice.Device) error {
			return fleetDeviceCalls(ctx, r, t, c, l, d, o.name, &seq)
		},
	})
	c.tally.Duration = time.Since(c.began)
	r.finish(a, c, t, before, procErr, fetches, sinkBefore)
	a.addFleetResult(res)
	if err == nil {
		err = a.fileErr
	}
	return a, err
}

// fleetDeviceCalls has a device that has logged in call the target
// FleetCalls times, each call a Result for the collector, once its
// expectation (a valid pair for the device's sub) is appended. Expectations
// are appended as devices learn their identity; the collector reads them
// under its lock.
func fleetDeviceCalls(ctx context.Context, r *runner, t *running, c *collector, l *load, d *fakedevice.Device, name string, seq *atomic.Uint64) error {
	claims, err := d.IDTokenClaims()
	if err != nil {
		return err
	}
	c.mu.Lock()
	l.expect = append(l.expect, Expectation{Kind: ExpectValid, Label: "device " + d.ClientID(), Sub: claims.Sub})
	idx := len(l.expect) - 1
	c.mu.Unlock()
	u := itemURL(r.protectedURL(t, r.env.app.ID), idx)
	for range r.cfg.FleetCalls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		vr := &vegeta.Result{Attack: name, Seq: seq.Add(1) - 1, Timestamp: time.Now(), Method: http.MethodGet, URL: u}
		resp, err := d.Call(ctx, req)
		vr.Latency = time.Since(vr.Timestamp)
		if err != nil {
			vr.Error = err.Error()
		} else {
			vr.Body, _ = io.ReadAll(io.LimitReader(resp.Body, DefaultMaxBody))
			_ = resp.Body.Close()
			vr.Code = uint16(resp.StatusCode)
			vr.BytesIn = uint64(len(vr.Body))
		}
		c.add(vr)
	}
	return nil
}

// addFleetResult records the fleet's device counts, rate and login p99,
// and its device errors by kind.
func (a *Attack) addFleetResult(res fakedevice.FleetResult) {
	a.setExtra("devices", float64(res.N))
	a.setExtra("devicesSucceeded", float64(res.Succeeded))
	a.setExtra("devicesFailed", float64(res.Failed))
	a.setExtra("devicesPerSecond", res.DevicesPerSec)
	a.setExtra("loginP99ms", ms(res.Latency.P99))
	for k, n := range res.Errors {
		if a.ErrorKinds == nil {
			a.ErrorKinds = map[string]int{}
		}
		a.ErrorKinds["device "+k+": "+res.ErrorSamples[k]] += n
		a.Errors += n
	}
}
