package fakedevice_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakedevice"
)

func TestFleet(t *testing.T) {
	t.Parallel()
	const realm = "r"
	challenged := func(round int, _ map[string]json.RawMessage) (step, error) {
		if round == 0 {
			return step{challenges: map[string]any{realm: map[string]any{}}}, nil
		}
		return step{}, nil
	}
	for _, tc := range []struct {
		name        string
		n, conc     int
		flow        flowFunc
		keyGen      bool // devices generate 512-bit keys instead of sharing one
		handlerEven bool // only even devices get a handler for realm
		callRes     bool
		wantOK      int
		wantErrors  map[string]int
	}{
		{name: "anonymous with resource call", n: 50, conc: 4, flow: anonymous, callRes: true, wantOK: 50, wantErrors: map[string]int{}},
		{name: "key generation", n: 20, conc: 3, flow: anonymous, keyGen: true, wantOK: 20, wantErrors: map[string]int{}},
		{name: "errors by kind", n: 50, conc: 5, flow: challenged, handlerEven: true, wantOK: 25,
			wantErrors: map[string]int{"authorize/no-handler": 25}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, tc.flow)
			var mu sync.Mutex
			var progress [][2]int
			cfg := fakedevice.FleetConfig{
				N: tc.n, Concurrency: tc.conc,
				NewConfig: func(i int) fakedevice.Config {
					c := az.config()
					if tc.keyGen {
						c.Key, c.KeyBits = nil, 512
					}
					if i%2 == 1 {
						c.Platform = fakedevice.PlatformAndroid
					}
					if !tc.handlerEven || i%2 == 0 {
						c.Handlers = map[string]fakedevice.Handler{realm: fakedevice.CustomCredentials("u", "p")}
					}
					return c
				},
				Progress: func(done, failed int) {
					mu.Lock()
					progress = append(progress, [2]int{done, failed})
					mu.Unlock()
				},
			}
			if tc.callRes {
				cfg.Then = func(ctx context.Context, d *fakedevice.Device) error {
					req, _ := http.NewRequestWithContext(ctx, http.MethodGet, az.resourceURL(), nil)
					resp, err := d.Call(ctx, req)
					if err != nil {
						return err
					}
					defer resp.Body.Close()
					_, _ = io.Copy(io.Discard, resp.Body)
					if resp.StatusCode != 200 {
						return errors.New(resp.Status)
					}
					return nil
				}
			}
			res, err := fakedevice.RunFleet(ctxT(t), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Succeeded != tc.wantOK || res.Started != tc.n || res.Failed != tc.n-tc.wantOK || res.NotStarted != 0 {
				t.Errorf("result %+v", res)
			}
			if len(res.Errors) != len(tc.wantErrors) {
				t.Errorf("errors %v, want %v", res.Errors, tc.wantErrors)
			}
			for k, v := range tc.wantErrors {
				if res.Errors[k] != v || !strings.Contains(res.ErrorSamples[k], `"r"`) {
					t.Errorf("errors %v samples %v, want %v", res.Errors, res.ErrorSamples, tc.wantErrors)
				}
			}
			if m := az.maxInFlight.Load(); m > int32(tc.conc) {
				t.Errorf("%d requests in flight at once, concurrency %d", m, tc.conc)
			}
			if len(progress) != tc.n || progress[tc.n-1] != [2]int{tc.n, tc.n - tc.wantOK} {
				t.Errorf("progress calls %d, last %v", len(progress), progress[len(progress)-1])
			}
			for i, p := range progress {
				if p[0] != i+1 {
					t.Fatalf("progress %d reported done=%d", i, p[0])
				}
			}
			if (res.KeyGen > 0) != tc.keyGen || res.Sign <= 0 || res.Wait <= 0 || res.DevicesPerSec <= 0 || res.Latency.Max < res.Latency.P50 {
				t.Errorf("timings %+v", res)
			}
			wantReq := tc.n * 3 // register, authorize, token
			if tc.callRes {
				wantReq += tc.n
			}
			if tc.handlerEven {
				wantReq = 25*4 + 25*2 // ok devices: register, 2 GETs, token; failed: register, 1 GET
			}
			if res.Requests != wantReq {
				t.Errorf("%d requests, want %d", res.Requests, wantReq)
			}
			if !strings.Contains(res.String(), "devices/s") {
				t.Errorf("summary %q", res.String())
			}
		})
	}
}

func TestFleetCancellation(t *testing.T) {
	t.Parallel()
	t.Run("cancel from progress", func(t *testing.T) {
		t.Parallel()
		az := newAZ(t, anonymous)
		ctx, cancel := context.WithCancel(ctxT(t))
		defer cancel()
		const conc = 4
		res, err := fakedevice.RunFleet(ctx, fakedevice.FleetConfig{
			N: 1000, Concurrency: conc,
			NewConfig: func(int) fakedevice.Config { return az.config() },
			Progress: func(done, _ int) {
				if done == 10 {
					cancel()
				}
			},
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("RunFleet error %v, want context.Canceled", err)
		}
		if res.Started < 10 || res.Started > 10+conc || res.NotStarted != 1000-res.Started {
			t.Errorf("started %d, not started %d", res.Started, res.NotStarted)
		}
	})
	t.Run("deadline with a hanging server", func(t *testing.T) {
		t.Parallel()
		az := newAZ(t, anonymous)
		az.hang = true
		ctx, cancel := context.WithTimeout(ctxT(t), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		res, err := fakedevice.RunFleet(ctx, fakedevice.FleetConfig{
			N: 100, Concurrency: 5,
			NewConfig: func(int) fakedevice.Config { return az.config() },
		})
		if el := time.Since(start); el > 5*time.Second {
			t.Errorf("fleet took %v past a 300ms deadline", el)
		}
		if !errors.Is(err, context.DeadlineExceeded) || res.Succeeded != 0 || res.Errors["register/timeout"] != res.Started || res.Started != 5 {
			t.Errorf("err %v, result %+v", err, res)
		}
	})
	t.Run("bad config", func(t *testing.T) {
		t.Parallel()
		for _, cfg := range []fakedevice.FleetConfig{
			{N: 0, NewConfig: func(int) fakedevice.Config { return fakedevice.Config{} }},
			{N: 1},
			{N: 1, Concurrency: -1, NewConfig: func(int) fakedevice.Config { return fakedevice.Config{} }},
		} {
			if _, err := fakedevice.RunFleet(t.Context(), cfg); !errors.Is(err, fakedevice.ErrConfig) {
				t.Errorf("RunFleet(%+v): %v", cfg, err)
			}
		}
	})
}
