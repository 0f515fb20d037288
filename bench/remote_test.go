package bench

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// deployment is what a user runs before `mcaspec bench --target URL`: a
// fakeaz with one shared signing key for every app, and a target trusting
// it, both on loopback, neither started by the bench.
type deployment struct {
	az     *fakeaz.Server
	key    *rsa.PrivateKey
	app    fakeaz.App
	target *target.Server
}

func startDeployment(t *testing.T) *deployment {
	t.Helper()
	keys, _ := sharedKeys(t)
	d := &deployment{key: keys[0]}
	az, err := fakeaz.New(fakeaz.WithSigningKey(d.key), fakeaz.WithTokenLifetime(time.Hour)) // mcaspec fakeaz --key
	if err != nil {
		t.Fatal(err)
	}
	d.az = az
	if err := d.az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.az.Close() })
	d.app, err = d.az.AddApp(fakeaz.App{ServiceClients: []fakeaz.ServiceClient{{ClientID: "deployed-svc", Secret: "s3cret"}}})
	if err != nil {
		t.Fatal(err)
	}
	d.target, err = target.New(target.Config{ServerURL: d.az.URL(), AppID: d.app.ID, ClientID: "deployed-svc", Secret: "s3cret",
		Validator: reference.Config{CacheSize: 20, FetchTimeout: time.Second}})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.target.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.target.Close() })
	return d
}

// remoteConfig is a tiny run against the deployment, minting from its key.
func (d *deployment) remoteConfig(t *testing.T, scenarios ...string) Config {
	cfg := smokeConfig(t, scenarios[0], Running("deployed", d.target.URL()))
	cfg.Scenarios = scenarios
	cfg.Duration, cfg.MaxRequests = 400*time.Millisecond, 200
	cfg.AZ = &RemoteAZ{ServerURL: d.az.URL(), Key: d.key, AppID: d.app.ID, AdminURL: d.az.AdminURL()}
	cfg.Targets[0].CacheSize = 20
	return cfg
}

func logReport(t *testing.T, rep *Report) {
	t.Helper()
	if rep == nil {
		return
	}
	for _, a := range rep.all() {
		t.Logf("%s: %d requests, %d correct, %d wrong %v, %d errors %v", a.Name, a.Requests, a.Correct, a.Wrong, a.WrongSamples, a.Errors, a.ErrorKinds)
	}
}

// TestRemoteAZ benchmarks a running target that trusts an AZ the bench
// did not start: tokens minted locally from the AZ's shared key, fresh
// apps and faults through its admin API, every answer checked.
func TestRemoteAZ(t *testing.T) {
	t.Parallel()
	d := startDeployment(t)
	cfg := d.remoteConfig(t, "hot", "cold", "keyfetch", "invalid-flood", "propagation", "outage")
	cfg.Rate = 200
	cfg.Keys = nil // the bench must do with the AZ's key alone
	rep, err := Run(context.Background(), cfg)
	logReport(t, rep)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Attacks) != len(cfg.Scenarios) {
		t.Fatalf("%d attacks, want %d", len(rep.Attacks), len(cfg.Scenarios))
	}
	for _, a := range rep.Attacks {
		if a.Correct == 0 || a.Wrong != 0 {
			t.Errorf("%s: %d correct, %d wrong", a.Name, a.Correct, a.Wrong)
		}
		if !a.NotMeasured || a.CPUPerRequestUS != 0 {
			t.Errorf("%s: CPU %v, not measured %v: a running target's CPU is not measured", a.Name, a.CPUPerRequestUS, a.NotMeasured)
		}
		switch a.Scenario {
		case "keyfetch":
			if a.Extra["maxFetchesPerApp"] < 1 {
				t.Errorf("keyfetch: %v: the AZ's counters were not read through its admin API", a.Extra)
			}
		case "propagation":
			if a.ByKind["service-call/correct"] == 0 {
				t.Errorf("propagation: no correct service call: %v", a.ByKind)
			}
		}
	}
	var txt bytes.Buffer
	if err := rep.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "not measured") {
		t.Errorf("text report does not say the CPU is not measured: %v\n%s", err, txt.String())
	}
}

// TestRemoteAZRefusals: what the bench cannot do against a deployment is
// refused up front with the reason, as a configuration error.
func TestRemoteAZRefusals(t *testing.T) {
	t.Parallel()
	d := startDeployment(t)
	// A closed loopback port: an admin API that does not answer.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() + "/admin"
	_ = ln.Close()
	other := sharedKeysOther(t, d.key)
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"keyfetch without admin", func(c *Config) { c.Scenarios = []string{"keyfetch"}; c.AZ.AdminURL = closed }, "admin API is reachable"},
		{"outage without admin", func(c *Config) { c.Scenarios = []string{"outage"}; c.AZ.AdminURL = closed }, "admin API is reachable"},
		{"propagation without a service client", func(c *Config) { c.Scenarios = []string{"propagation"}; c.AZ.AdminURL = closed }, "service client"},
		{"another key", func(c *Config) { c.AZ.Key = other }, "another key"},
		{"unknown app", func(c *Config) { c.AZ.AppID = "not-an-app" }, "answered 404"},
		{"no key", func(c *Config) { c.AZ.Key = nil }, "no signing key"},
		{"bad URL", func(c *Config) { c.AZ.ServerURL = "ftp://x" }, "AZ URL"},
		{"bad target URL", func(c *Config) { c.Targets[0].URL = "127.0.0.1:80" }, "running target"},
		{"start long ago", func(c *Config) { c.StartAt = time.Now().Add(-time.Minute) }, "in the past"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := d.remoteConfig(t, "hot")
			tc.edit(&cfg)
			_, err := Run(context.Background(), cfg)
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Run: %v, want ErrConfig saying %q", err, tc.want)
			}
		})
	}
}

// sharedKeysOther returns a shared test key that is not k.
func sharedKeysOther(t *testing.T, k *rsa.PrivateKey) *rsa.PrivateKey {
	keys, _ := sharedKeys(t)
	for _, o := range keys {
		if !o.Equal(k) {
			return o
		}
	}
	t.Fatal("no other key")
	return nil
}

// TestGivenTokens benchmarks a deployment trusting an AZ the bench cannot
// drive: tokens from a file, broken variants derived from them.
func TestGivenTokens(t *testing.T) {
	t.Parallel()
	d := startDeployment(t)
	f, err := d.az.Factory(d.app.ID)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	file.WriteString("# tokens a real AZ issued\n")
	for i := range 4 {
		c := strings.Repeat(string(rune('a'+i)), 40)
		pairs, err := f.Pool(context.Background(), tokenfactory.PoolSpec{N: 1, Make: func(int) (tokenfactory.Access, *tokenfactory.ID) {
			return tokenfactory.Access{AppID: d.app.ID, ClientID: c}, &tokenfactory.ID{AppID: d.app.ID, ClientID: c}
		}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(Token{Authorization: pairs[0].Header(), Sub: tokenfactory.SubjectFor(c, nil)})
		file.Write(append(b, '\n'))
	}
	path := filepath.Join(t.TempDir(), "tokens.jsonl")
	if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	toks, err := ReadTokens(fh)
	_ = fh.Close()
	if err != nil || len(toks) != 4 {
		t.Fatalf("ReadTokens: %d, %v", len(toks), err)
	}
	cfg := d.remoteConfig(t, "hot", "warm", "invalid-flood")
	cfg.AZ, cfg.Tokens = nil, toks
	cfg.Shard = Shard{1, 2} // tokens 2 and 4
	rep, err := Run(context.Background(), cfg)
	logReport(t, rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Attacks {
		if a.Correct == 0 || a.Wrong != 0 || a.Errors != 0 {
			t.Errorf("%s: %d correct, %d wrong, %d errors", a.Name, a.Correct, a.Wrong, a.Errors)
		}
		if a.Scenario == "invalid-flood" && a.Extra["namedMutations"] < 5 {
			t.Errorf("invalid-flood: %v derived mutations, want several", a.Extra["namedMutations"])
		}
	}
	// Scenarios that need minting are refused with the reason.
	cfg.Scenarios = []string{"cold"}
	if _, err := Run(context.Background(), cfg); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "--az-url") {
		t.Fatalf("cold with given tokens: %v, want ErrConfig naming --az-url", err)
	}
	// A broken tokens file is a configuration error.
	for _, bad := range []string{``, `{"authorization":"Basic x","sub":"s"}`, `{"authorization":"Bearer a.b.c"}`, `{"auth":"x"}`} {
		if _, err := ReadTokens(strings.NewReader(bad)); !errors.Is(err, ErrConfig) {
			t.Errorf("ReadTokens(%q): %v, want ErrConfig", bad, err)
		}
	}
}

// TestRemoteShardsMerge: two shards against one running target, from the
// AZ's shared key, then the merge: totals are the shards' sum, both
// generators are counted, and broken bounds give a failing decision.
func TestRemoteShardsMerge(t *testing.T) {
	t.Parallel()
	d := startDeployment(t)
	out := t.TempDir()
	total, wantFiles := 0, 0
	// Both shards at once, held by the start barrier.
	start := time.Now().Add(time.Second)
	reps := make([]*Report, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cfg := d.remoteConfig(t, "hot", "invalid-flood")
		cfg.Shard, cfg.OutDir, cfg.StartAt = Shard{i, 2}, filepath.Join(out, string(rune('a'+i))), start
		wg.Add(1)
		go func() { defer wg.Done(); reps[i], errs[i] = Run(context.Background(), cfg) }()
	}
	wg.Wait()
	for i, rep := range reps {
		logReport(t, rep)
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, a := range rep.Attacks {
			if i == 0 && a.Scenario == "hot" && a.Metrics.Earliest.Before(start) {
				t.Errorf("%s began at %v, before the start time %v", a.Name, a.Metrics.Earliest, start)
			}
			total += a.Requests
			wantFiles++
			if want := ResultsFileName(a.Name, Shard{i, 2}); filepath.Base(a.ResultsFile) != want || !strings.Contains(want, ".shard-") {
				t.Errorf("results file %s, want %s", a.ResultsFile, want)
			}
		}
	}
	files, _ := filepath.Glob(filepath.Join(out, "*", "results", "*.bin"))
	if len(files) != wantFiles {
		t.Fatalf("%d results files, want %d", len(files), wantFiles)
	}
	rep, err := Merge(context.Background(), files, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests != total || rep.Generators != 2 || strings.Join(rep.GeneratorShards, " ") != "0/2 1/2" {
		t.Fatalf("merged %d requests from %d generators %v, want %d from 0/2 1/2", rep.Requests, rep.Generators, rep.GeneratorShards, total)
	}
	if err := rep.CheckBounds(Bounds{MaxP99: time.Minute, MaxErrorRate: 0.5}); err != nil {
		t.Fatalf("generous bounds: %v", err)
	}
	err = rep.CheckBounds(Bounds{MaxP99: time.Nanosecond})
	if !errors.Is(err, ErrBounds) || rep.OK || len(rep.Broken) != len(rep.Attacks) {
		t.Fatalf("p99 bound of 1ns: %v, broken %v, want one line per attack", err, rep.Broken)
	}
}

// TestShardPoolsDisjoint: shards minting from one shared key never send
// the same token.
func TestShardPoolsDisjoint(t *testing.T) {
	t.Parallel()
	d := startDeployment(t)
	seen := map[string]int{}
	for i := range 2 {
		cfg := d.remoteConfig(t, "hot")
		cfg.Shard = Shard{i, 2}
		if err := cfg.defaults(); err != nil {
			t.Fatal(err)
		}
		e, err := newEnv(context.Background(), &cfg, newClient(2, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.pool(context.Background(), "warm", 'w', 30)
		_ = e.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range p {
			if s, ok := seen[x.header()]; ok {
				t.Fatalf("shards %d and %d share a token", s, i)
			}
			seen[x.header()] = i
		}
	}
}

func TestShardOfFile(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		path string
		want Shard
		ok   bool
	}{
		{"out/results/" + ResultsFileName("reference/hot", Shard{2, 3}), Shard{2, 3}, true},
		{"out/results/" + ResultsFileName("reference/hot", Shard{0, 1}), Shard{}, false},
		{"x.shard-3-of-3.bin", Shard{}, false},
	} {
		if got, ok := ShardOfFile(tc.path); got != tc.want || ok != tc.ok {
			t.Errorf("ShardOfFile(%q) = %v, %v", tc.path, got, ok)
		}
	}
	if n := missingShards([]Shard{{0, 3}, {2, 3}}); len(n) != 1 || !strings.Contains(n[0], "1/3") {
		t.Errorf("missingShards = %v", n)
	}
}
