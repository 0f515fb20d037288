package fakeaz_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestFaultKinds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fault  fakeaz.FaultSpec
		status int
		body   string
	}{
		{"status 500", fakeaz.FaultSpec{Endpoint: "publickey", Status: 500, Body: `{"error":"boom"}`}, 500, `{"error":"boom"}`},
		{"garbage body", fakeaz.FaultSpec{Endpoint: "publickey", Status: 200, Body: fakeaz.GarbageBody}, 200, fakeaz.GarbageBody},
		{"empty body", fakeaz.FaultSpec{Endpoint: "publickey", Status: 200}, 200, ""},
		{"every endpoint", fakeaz.FaultSpec{Endpoint: "*", Status: 503}, 503, ""},
		{"delay then normal", fakeaz.FaultSpec{Endpoint: "publickey", Delay: 50 * time.Millisecond}, 200, `{"kty":"RSA"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if err := e.s.SetFault(tc.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			resp, body := get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil)
			if resp.StatusCode != tc.status || !strings.HasPrefix(string(body), tc.body) || (tc.body == "" && len(body) != 0) {
				t.Fatalf("got %d %q, want %d %q", resp.StatusCode, body, tc.status, tc.body)
			}
			if took := time.Since(start); took < tc.fault.Delay {
				t.Errorf("answered after %v, before the %v delay", took, tc.fault.Delay)
			}
			e.s.ClearFaults()
			if resp, _ := get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil); resp.StatusCode != 200 {
				t.Errorf("after ClearFaults: %d", resp.StatusCode)
			}
		})
	}
}

func TestFaultScopeEveryNthAndWindow(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	other, err := e.s.AddApp(fakeaz.App{})
	if err != nil {
		t.Fatal(err)
	}
	status := func(appID, ep string) int {
		resp, _ := get(t, e.hc, e.appURL(appID, ep), nil)
		return resp.StatusCode
	}
	// Per app and per endpoint.
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: "publickey", AppID: other.ID, Status: 502}); err != nil {
		t.Fatal(err)
	}
	if got := []int{status(other.ID, "publickey"), status(e.app.ID, "publickey"), status(other.ID, "jwks")}; got[0] != 502 || got[1] != 200 || got[2] != 200 {
		t.Errorf("per-app fault: statuses %v, want [502 200 200]", got)
	}
	e.s.ClearFaults()
	// Every 3rd request.
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: "publickey", Status: 500, EveryNth: 3}); err != nil {
		t.Fatal(err)
	}
	var got []int
	for range 6 {
		got = append(got, status(e.app.ID, "publickey"))
	}
	if want := []int{200, 200, 500, 200, 200, 500}; !equalInts(got, want) {
		t.Errorf("everyNth=3: %v, want %v", got, want)
	}
	e.s.ClearFaults()
	// For: ends with the server clock.
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: "publickey", Status: 500, For: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if s := status(e.app.ID, "publickey"); s != 500 {
		t.Errorf("within For: %d", s)
	}
	e.clock.Advance(time.Minute)
	if s := status(e.app.ID, "publickey"); s != 200 {
		t.Errorf("after For: %d", s)
	}
	if n := len(e.s.Faults()); n != 0 {
		t.Errorf("%d faults still listed after expiry", n)
	}
	// Until.
	if err := e.s.SetFault(fakeaz.FaultSpec{Status: 500, Until: e.clock.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	if s := status(e.app.ID, "token"); s != 500 {
		t.Errorf("before Until: %d", s)
	}
	e.clock.Advance(time.Second)
	if s := status(e.app.ID, "publickey"); s != 200 {
		t.Errorf("after Until: %d", s)
	}
	// Invalid specs.
	for _, bad := range []fakeaz.FaultSpec{{Endpoint: "nope", Status: 500}, {Status: 1000}, {Endpoint: "token"}, {Delay: -1}} {
		if err := e.s.SetFault(bad); !errors.Is(err, fakeaz.ErrInvalidFault) {
			t.Errorf("SetFault(%+v) = %v, want ErrInvalidFault", bad, err)
		}
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// hangRequest starts a publickey request and returns a channel with its status.
func hangRequest(t *testing.T, e *env) chan int {
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), http.MethodGet, e.appURL(e.app.ID, "publickey"), nil)
		resp, err := e.hc.Do(req)
		if err != nil {
			done <- -1
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	return done
}

// waitHanging waits until the server has counted n publickey requests.
func waitHanging(t *testing.T, e *env, n int) {
	deadline := time.Now().Add(5 * time.Second)
	for e.s.Stats().Count("publickey", "") < n {
		if time.Now().After(deadline) {
			t.Fatal("request never reached the server")
		}
		time.Sleep(time.Millisecond) // polling with a bound
	}
}

func TestHangReleasedByClearFaults(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.s.SetFault(fakeaz.FaultSpec{Endpoint: "publickey", Hang: true, Status: 503}); err != nil {
		t.Fatal(err)
	}
	done := hangRequest(t, e)
	waitHanging(t, e, 1)
	select {
	case s := <-done:
		t.Fatalf("hanging request answered %d before release", s)
	case <-time.After(50 * time.Millisecond):
	}
	e.s.ClearFaults()
	select {
	case s := <-done:
		if s != 503 {
			t.Errorf("released request: %d, want the fault's 503", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("ClearFaults did not release the hanging request")
	}
}

func TestHangDoesNotBlockClose(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := e.s.SetFault(fakeaz.FaultSpec{Hang: true}); err != nil {
		t.Fatal(err)
	}
	var chans []chan int
	for range 3 {
		chans = append(chans, hangRequest(t, e))
	}
	waitHanging(t, e, 3)
	start := time.Now()
	if err := e.s.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("Close took %v with hanging requests", took)
	}
	for _, c := range chans {
		select {
		case s := <-c:
			if s == 200 {
				t.Errorf("hanging request got 200 after Close")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("request still hanging after Close")
		}
	}
	if err := e.s.Start("127.0.0.1:0"); !errors.Is(err, fakeaz.ErrClosed) {
		t.Errorf("Start after Close = %v, want ErrClosed", err)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	d := newDevice(t, 512)
	cid := e.register(t, e.app.ID, d)
	e.redeem(t, e.app.ID, cid, e.code(t, e.app.ID, cid, d), d.key)
	for range 3 {
		get(t, e.hc, e.appURL(e.app.ID, "publickey"), nil)
	}
	get(t, e.hc, e.appURL("unknown-app", "publickey"), nil)
	st := e.s.Stats()
	checks := []struct {
		ep, app string
		want    int
	}{
		{"clients/instance", e.app.ID, 1}, {"authorization", e.app.ID, 1}, {"token", e.app.ID, 1},
		{"publickey", e.app.ID, 3}, {"publickey", "unknown-app", 1}, {"publickey", "", 4}, {"jwks", "", 0},
	}
	for _, c := range checks {
		if got := st.Count(c.ep, c.app); got != c.want {
			t.Errorf("Count(%q, %q) = %d, want %d", c.ep, c.app, got, c.want)
		}
	}
	e.s.ResetStats()
	if got := e.s.Stats().Count("publickey", ""); got != 0 {
		t.Errorf("after ResetStats: %d", got)
	}
}

func TestStartRefusesBadAddress(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"nonsense", "127.0.0.1", "127.0.0.1:x"} {
		s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)))
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(addr); !errors.Is(err, fakeaz.ErrListen) {
			t.Errorf("Start(%q) = %v, want ErrListen", addr, err)
		}
		_ = s.Close()
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0", "0.0.0.0:0", ":0"} {
		if err := fakeaz.CheckListen(addr); err != nil {
			t.Errorf("CheckListen(%q) = %v", addr, err)
		}
	}
}

func TestKeyPoolWithoutKeyGen(t *testing.T) {
	t.Parallel()
	s, err := fakeaz.New(fakeaz.WithKeyPoolSize(1))
	if err != nil {
		t.Fatal(err)
	}
	a, err := s.AddApp(fakeaz.App{})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := s.PublicKey(a.ID)
	if err != nil || pub.N.BitLen() != tokenfactory.DefaultKeyBits {
		t.Fatalf("app key: %v bits, %v", pub.N.BitLen(), err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not stop the key pool")
	}
}
