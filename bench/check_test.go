package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	valid := &Expectation{Kind: ExpectValid, Label: "v", Sub: "::abc"}
	validOr503 := &Expectation{Kind: ExpectValid, Label: "v", Sub: "::abc", AllowUnavailable: true}
	broken := &Expectation{Kind: ExpectRefused, Label: "alg-none"}
	prop := &Expectation{Kind: ExpectPropagated, Label: "p", AuthSHA256: authHash("Bearer a b")}
	svc := &Expectation{Kind: ExpectServiceCall, Label: "s", ServiceClient: "svc"}
	echo := func(e sinkEcho) []byte {
		var b bytes.Buffer
		b.WriteString(`{"downstream_status":200,"body":`)
		inner, _ := jsonString(e)
		b.WriteString(inner)
		b.WriteString(`}`)
		return b.Bytes()
	}
	tests := []struct {
		name      string
		code      uint16
		body      string
		err       string
		e         *Expectation
		validates bool
		want      Verdict
	}{
		{"valid 200 right sub", 200, `{"imf.sub":"::abc"}`, "", valid, true, Correct},
		{"valid 200 wrong sub", 200, `{"imf.sub":"::xyz"}`, "", valid, true, Wrong},
		{"valid 200 not a context", 200, `ok`, "", valid, true, Wrong},
		{"valid 200 an array", 200, `[{"imf.sub":"::abc"}]`, "", valid, true, Wrong},
		{"valid 200 sub not a string", 200, `{"imf.sub":1}`, "", valid, true, Wrong},
		{"valid 200 sub twice", 200, `{"imf.sub":"::abc","imf.sub":"::abc"}`, "", valid, true, Wrong},
		{"valid 200 no sub", 200, `{"imf.user":{}}`, "", valid, true, Wrong},
		{"valid 200 other case", 200, `{"IMF.SUB":"::abc"}`, "", valid, true, Wrong},
		{"valid 200 trailing bytes", 200, `{"imf.sub":"::abc"} x`, "", valid, true, Wrong},
		{"valid 200 escaped sub", 200, `{"imf.sub":"\u003a:abc","imf.user":{"a":[1,2]}}`, "", valid, true, Correct},
		{"valid refused", 401, `{}`, "", valid, true, Wrong},
		{"valid 503 not allowed", 503, `{}`, "", valid, true, Failed},
		{"valid 503 allowed", 503, `{}`, "", validOr503, true, CorrectUnavailable},
		{"transport error", 0, ``, "connection refused", valid, true, Failed},
		{"broken refused 401", 401, `{}`, "", broken, true, Correct},
		{"broken refused 400", 400, `{}`, "", broken, true, Correct},
		{"broken accepted", 200, `{"imf.sub":"::abc"}`, "", broken, true, Wrong},
		{"broken accepted by baseline", 200, `{"imf.sub":"::abc"}`, "", broken, false, Correct},
		{"broken 500", 500, `{}`, "", broken, true, Failed},
		{"propagated exact", 200, string(echo(sinkEcho{AuthSHA256: authHash("Bearer a b"), Bearer: true})), "", prop, true, Correct},
		{"propagated altered", 200, string(echo(sinkEcho{AuthSHA256: authHash("Bearer a"), Bearer: true})), "", prop, true, Wrong},
		{"propagated injected", 200, string(echo(sinkEcho{AuthSHA256: authHash("Bearer a b"), Bearer: true, Injected: true})), "", prop, true, Wrong},
		{"service token", 200, string(echo(sinkEcho{Prn: "svc", Bearer: true})), "", svc, true, Correct},
		{"caller token forwarded", 200, string(echo(sinkEcho{Prn: "device", Bearer: true})), "", svc, true, Wrong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := &vegeta.Result{Code: tc.code, Body: []byte(tc.body), Error: tc.err}
			if got, why := check(nil, r, tc.e, tc.validates); got != tc.want {
				t.Errorf("check = %v (%s), want %v", got, why, tc.want)
			}
		})
	}
}

func TestExpIndexAndShard(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url  string
		want int
		ok   bool
	}{{itemURL("http://127.0.0.1:1/v1/apps/x/protected?to=a", 42), 42, true}, {"http://x/", 0, false}, {"http://x/#abc", 0, false}} {
		if got, ok := expIndex(tc.url); got != tc.want || ok != tc.ok {
			t.Errorf("expIndex(%q) = %d, %v", tc.url, got, ok)
		}
	}
	for _, tc := range []struct {
		in   string
		want Shard
		err  bool
	}{{"0/1", Shard{0, 1}, false}, {"3/4", Shard{3, 4}, false}, {"4/4", Shard{}, true}, {"-1/2", Shard{}, true}, {"x", Shard{}, true}} {
		got, err := ParseShard(tc.in)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("ParseShard(%q) = %v, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrConfig) {
			t.Errorf("ParseShard(%q) error %v does not wrap ErrConfig", tc.in, err)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"unknown scenario", Config{Scenarios: []string{"nope"}}},
		{"duplicate target", Config{Targets: []TargetSpec{Reference(), Reference()}}},
		{"command without command", Config{Targets: []TargetSpec{{Name: "x", Kind: KindCommand}}}},
		{"bad kind", Config{Targets: []TargetSpec{{Name: "x", Kind: "martian"}}}},
		{"bad find-max", Config{FindMax: &FindMax{Factor: 0.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if _, err := Run(context.Background(), tc.cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("Run: %v, want ErrConfig", err)
			}
		})
	}
}

// TestShardsMerge runs two shards of hot and invalid-flood at once (one
// start time) and merges their files: the histogram files and the vegeta
// results files give the same counts, and the merged figures add up.
func TestShardsMerge(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var files, tallies []string
	total := 0
	start := time.Now().Add(1500 * time.Millisecond)
	reps := make([]*Report, 2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cfg := smokeConfig(t, "hot")
		cfg.Scenarios = []string{"hot", "invalid-flood"}
		cfg.Shard, cfg.StartAt = Shard{i, 2}, start
		cfg.Duration = 500 * time.Millisecond
		cfg.OutDir = filepath.Join(dir, "shard", string(rune('a'+i)))
		wg.Add(1)
		go func() { defer wg.Done(); reps[i], errs[i] = Run(context.Background(), cfg) }()
	}
	wg.Wait()
	for i, rep := range reps {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		for _, a := range rep.Attacks {
			if a.OfferedRate != smokeConfig(t, "hot").Rate/2 {
				t.Errorf("shard offered %v, want half the rate", a.OfferedRate)
			}
			total += a.Requests
			files = append(files, a.ResultsFile)
			tallies = append(tallies, a.HistogramFile)
		}
	}
	fromBin, err := Merge(context.Background(), files, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Merge(context.Background(), tallies, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if fromBin.Requests != rep.Requests || fromBin.Correct != rep.Correct {
		t.Errorf("results files: %d requests, %d correct; histogram files: %d, %d", fromBin.Requests, fromBin.Correct, rep.Requests, rep.Correct)
	}
	if !fromBin.Attacks[0].CorrectedUnknown || rep.Attacks[0].CorrectedUnknown {
		t.Errorf("corrected latency unknown: from results files %v, from histograms %v", fromBin.Attacks[0].CorrectedUnknown, rep.Attacks[0].CorrectedUnknown)
	}
	got := 0
	for _, a := range rep.Attacks {
		got += a.Requests
		if a.Wrong != 0 {
			t.Errorf("%s: %d wrong after merge", a.Name, a.Wrong)
		}
	}
	if got != total || len(rep.Attacks) != 2 {
		t.Fatalf("merged %d requests in %d attacks, want %d in 2", got, len(rep.Attacks), total)
	}
	var html, txt bytes.Buffer
	if err := rep.WriteHTML(&html); err != nil || !strings.Contains(html.String(), `id="chart-1"`) || !strings.Contains(html.String(), "uPlot") {
		t.Fatalf("html: %v", err)
	}
	if err := rep.WriteText(&txt); err != nil || !strings.Contains(txt.String(), "reference") {
		t.Fatalf("text: %v\n%s", err, txt.String())
	}
}

func TestBaselineTargetAnswers(t *testing.T) {
	t.Parallel()
	// The sink's prn decoding and the hash agree with the checker.
	if p, ok := prnOf("Bearer x.eyJwcm4iOiJzdmMifQ.y"); !ok || p != "svc" {
		t.Fatalf("prnOf = %q, %v", p, ok)
	}
	if _, ok := prnOf("Basic abc"); ok {
		t.Fatal("prnOf accepted a Basic header")
	}
}

// jsonString encodes v as JSON, then that JSON as a JSON string (the
// target's {"body": "..."} excerpt of the sink's answer).
func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	s, err := json.Marshal(string(b))
	return string(s), err
}
