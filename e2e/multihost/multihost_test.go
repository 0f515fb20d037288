// Package multihost runs a deployment across test hosts on one machine: the
// fake AZ on one host, the reference target on another, three load
// generators (bench shards) on three more against the one target URL, then
// the merge of their results. The hosts are network namespaces the test
// makes itself (see netns_test.go); where it cannot (not root), it falls
// back to separate processes on loopback addresses and says so. In CI
// (CI=true) it must use namespaces.
package multihost

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/mcaspec/mcaspec/bench"
	"github.com/mcaspec/mcaspec/conformance"
)

// probeEnv makes the test binary a readiness probe: GET the URL in it until
// it answers 200 (run inside a test host's namespace, where the test
// process itself cannot reach).
const probeEnv = "MCASPEC_MULTIHOST_PROBE"

func TestMain(m *testing.M) {
	if u := os.Getenv(probeEnv); u != "" {
		os.Exit(probe(u))
	}
	os.Exit(m.Run())
}

func probe(u string) int {
	c := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		resp, err := c.Get(u)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return 0
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(100 * time.Millisecond)
	}
	fmt.Fprintf(os.Stderr, "probe %s: not ready after 30s: %s\n", u, last)
	return 1
}

const (
	appID        = "6f1d7b3e-2c4a-4e8b-9a51-0d3c2b1a9e77"
	azPort       = "9080"
	targetPort   = "8080"
	shards       = 3
	adminToken   = "multihost-admin-secret"
	rate         = 120 // per second, over all shards
	attackLength = 3 * time.Second
)

// TestDeploymentAcrossHosts is the multi-host recipe of docs/bench: fakeaz
// with a shared key and a public URL on one host, the reference target
// configured against it on another, three shards on three more, one merge.
func TestDeploymentAcrossHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs five processes")
	}
	names := []string{"az", "target", "gen0", "gen1", "gen2"}
	net := hosts(t, names...)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := buildMcaspec(t, dir)
	keyFile := writeKey(t, dir)
	cfgFile := filepath.Join(dir, "apps.json")
	writeJSON(t, cfgFile, map[string]any{"apps": []map[string]any{{"appId": appID, "bundleId": "com.example.multihost"}}})

	az, tgt := net.host("az"), net.host("target")
	serverURL := "http://" + az.ip + ":" + azPort + "/imf-authserver"
	targetURL := "http://" + tgt.ip + ":" + targetPort

	// The AZ listens on its host's address (not loopback), so its admin API
	// needs the token.
	azProc := start(ctx, t, az, dir, "fakeaz", nil, bin, "fakeaz", "--listen", az.ip+":"+azPort,
		"--public-url", serverURL, "--key", keyFile, "--config", cfgFile, "--admin-token", adminToken, "--quiet")
	waitReady(ctx, t, net.host("gen0"), serverURL+"/authorization/v1/apps/"+appID+"/publickey", azProc)

	var downstream []string
	for _, g := range names[2:] {
		downstream = append(downstream, net.host(g).ip)
	}
	tgtProc := start(ctx, t, tgt, dir, "target", []string{
		"HOST=" + tgt.ip, "PORT=" + targetPort, "MCA_SERVER_URL=" + serverURL, "MCA_APP_ID=" + appID,
		"MCA_DOWNSTREAM_HOSTS=" + strings.Join(downstream, ","),
	}, bin, "reference")
	waitReady(ctx, t, net.host("gen0"), targetURL+"/healthz", tgtProc)

	// Three generators, one start time, one target URL.
	startAt := time.Now().Add(4 * time.Second).UTC().Format(time.RFC3339Nano)
	var g errgroup.Group
	for i, name := range names[2:] {
		out := filepath.Join(dir, "results", name)
		g.Go(func() error {
			return run(ctx, t, net.host(name), dir, name, bin, "bench",
				"--target", "ref="+targetURL, "--az-url", serverURL, "--az-key", keyFile, "--app-id", appID,
				"--az-admin-token", adminToken, "--scenario", "hot",
				"--rate", fmt.Sprint(rate), "--duration", attackLength.String(), "--measure-verify=false",
				"--shard", fmt.Sprintf("%d/%d", i, shards), "--start-at", startAt, "--out", out, "--quiet")
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}

	// The merge runs anywhere the files are: here, with no network at all.
	mergedOut := filepath.Join(dir, "merged")
	if err := run(ctx, t, &host{name: "merge"}, dir, "merge", bin, "bench",
		"--merge", filepath.Join(dir, "results", "*", "results", "*"), "--out", mergedOut); err != nil {
		t.Fatal(err)
	}
	var total int
	for _, name := range names[2:] {
		rep := readReport(t, filepath.Join(dir, "results", name, "report.json"))
		n := requests(rep)
		if n == 0 {
			t.Errorf("%s sent no request", name)
		}
		if rep.WrongAnswers != 0 {
			t.Errorf("%s: %d wrong answers", name, rep.WrongAnswers)
		}
		total += n
	}
	merged := readReport(t, filepath.Join(mergedOut, "report.json"))
	if got := requests(merged); got != total {
		t.Errorf("merged report has %d requests, the shards sent %d in all", got, total)
	}
	if merged.WrongAnswers != 0 || !merged.OK {
		t.Errorf("merged: %d wrong answers, ok=%v", merged.WrongAnswers, merged.OK)
	}
	if merged.Generators != shards {
		t.Errorf("merged report says %d generators took part, want %d", merged.Generators, shards)
	}
	t.Logf("%d requests from %d generators against %s, merged: %d, wrong answers: %d", total, shards, targetURL, requests(merged), merged.WrongAnswers)
}

func hostList(n *network) string {
	var s []string
	for _, h := range n.hosts {
		s = append(s, h.name+"="+h.ip)
	}
	return strings.Join(s, " ")
}

func requests(r *bench.Report) int {
	var n int
	for _, a := range r.Attacks {
		n += a.Requests
	}
	return n
}

func buildMcaspec(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "mcaspec")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/mcaspec/mcaspec/cmd/mcaspec")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func writeKey(t *testing.T, dir string) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "az.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func readReport(t *testing.T, path string) *bench.Report {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r bench.Report
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &r
}

// proc is a server process on a test host; its output is kept for failures.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// start runs a server on h until the test ends (killed at cleanup, by its pid).
func start(ctx context.Context, t *testing.T, h *host, dir, name string, env []string, bin string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, out: &lockedBuffer{}, done: make(chan struct{})}
	p.cmd = h.command(ctx, bin, args...)
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("--- %s on %s (%s) output:\n%s", name, h.name, h.ip, p.out.String())
		}
	})
	return p
}

// waitReady probes u from host from (inside the test network) until 200.
func waitReady(ctx context.Context, t *testing.T, from *host, u string, p *proc) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := from.command(ctx, self)
	cmd.Env = append(os.Environ(), probeEnv+"="+u)
	if out, err := cmd.CombinedOutput(); err != nil {
		select {
		case <-p.done:
			t.Fatalf("%s exited: %v\n%s", p.name, p.cmd.ProcessState, p.out.String())
		default:
		}
		t.Fatalf("%s not ready at %s: %v\n%s\n%s output:\n%s", p.name, u, err, out, p.name, p.out.String())
	}
}

// run runs a command on h to completion, logging its last lines.
func run(ctx context.Context, t *testing.T, h *host, dir, name, bin string, args ...string) error {
	cmd := h.command(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) > 15 {
		lines = lines[len(lines)-15:]
	}
	sc := bufio.NewScanner(strings.NewReader(strings.Join(lines, "\n")))
	for sc.Scan() {
		t.Logf("%s: %s", name, sc.Text())
	}
	if err != nil {
		return fmt.Errorf("%s on %s: %w\n%s", name, h.name, err, out)
	}
	return nil
}

// TestConformanceAcrossHosts runs the whole suite from one host against the
// reference target on another, configured with what --print-contract says:
// the AZ, the propagation sink and the attacker's key server are reached
// across the network (a validator that fetched an attacker's jku would
// really get the key).
func TestConformanceAcrossHosts(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs the whole suite")
	}
	net := hosts(t, "harness", "target")
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin := buildMcaspec(t, dir)
	hh, tgt := net.host("harness"), net.host("target")
	targetURL := "http://" + tgt.ip + ":" + targetPort
	flags := []string{"--az-listen", hh.ip + ":" + azPort, "--servers-listen", hh.ip}
	out, err := exec.CommandContext(ctx, bin, append([]string{"conformance", "--print-contract"}, flags...)...).Output()
	if err != nil {
		t.Fatalf("--print-contract: %v", err)
	}
	env := []string{"PORT=" + targetPort}
	for _, l := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok && strings.HasPrefix(l, "  ") {
			if k == "HOST" {
				v = tgt.ip // the contract's default is loopback: the target says where it listens
			}
			env = append(env, k+"="+v)
		}
	}
	if !slices.Contains(env, "MCA_DOWNSTREAM_HOSTS="+hh.ip) || !slices.Contains(env, "MCA_SERVER_URL=http://"+hh.ip+":"+azPort+"/imf-authserver") {
		t.Fatalf("the contract does not name the harness host %s: %q", hh.ip, env)
	}
	tgtProc := start(ctx, t, tgt, dir, "target", env, bin, "reference")
	waitReady(ctx, t, hh, targetURL+"/healthz", tgtProc)
	res := filepath.Join(dir, "conformance")
	if err := run(ctx, t, hh, dir, "conformance", bin, append([]string{"conformance", "--target", targetURL, "--name", "reference-remote", "--out", res}, flags...)...); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res, "results.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep conformance.RunReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	counts := map[conformance.Verdict]int{}
	for _, c := range rep.Results {
		counts[c.Verdict]++
		if c.Verdict != conformance.Pass && c.Verdict != conformance.Informational {
			t.Errorf("%s: %s across hosts", c.ID, c.Verdict)
		}
	}
	if counts[conformance.Pass] < 100 {
		t.Errorf("only %d cases passed: %v", counts["PASS"], counts)
	}
	t.Logf("the suite from %s against %s: %v", hh.ip, targetURL, counts)
}

// hosts makes test hosts in network namespaces, or falls back to loopback
// addresses (never in CI).
func hosts(t *testing.T, names ...string) *network {
	t.Helper()
	why := netnsUnavailable()
	if why == "" {
		n, err := newNetwork(t, 1, names...)
		if err == nil {
			t.Logf("test hosts in network namespaces on %s.0/24: %s", subnet, hostList(n))
			return n
		}
		why = err.Error()
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI must run this test in network namespaces: %s", why)
	}
	t.Logf("FALLBACK: network namespaces unavailable (%s): separate processes on loopback addresses instead", why)
	return loopbackNetwork(41, names...)
}
