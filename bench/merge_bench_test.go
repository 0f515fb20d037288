package bench

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkMergeResults streams three shards of vegeta results (binary
// format, what `mcaspec bench` writes to results/*.bin) through Merge's
// reader into the HDR histograms and adds the shards up: the memory must
// not grow with the request count. It reports the peak heap in use
// (sampled every 20 ms) and the results merged per second.
//
//	go test -run '^$' -bench MergeResults -benchtime 1x ./bench/
//
// MERGE_RESULTS (default 6000000) is each shard's result count. Each
// shard's stream repeats a chunk of 10,000 encoded results (random
// latencies, errors and wrong answers among them), so that the benchmark
// needs neither gigabytes of disk nor the time to encode them.
func BenchmarkMergeResults(b *testing.B) {
	perShard := envInt(b, "MERGE_RESULTS", 6_000_000)
	const shards, chunk = 3, 10_000
	head, body := encodedChunk(b, chunk)
	repeats := (perShard - 1 + chunk - 2) / (chunk - 1)
	ctx := context.Background()
	for b.Loop() {
		runtime.GC()
		var base runtime.MemStats
		runtime.ReadMemStats(&base)
		peak, stop := samplePeakHeap()
		began := time.Now()
		srcs, err := readSources(ctx, shards, func(ctx context.Context, i int) (*source, error) {
			r := io.MultiReader(bytes.NewReader(head), &repeatReader{b: body, n: repeats})
			ts, err := streamResults(ctx, "shard", r)
			return &source{path: "shard", shard: Shard{i, shards}, tallies: ts}, err
		})
		if err != nil {
			b.Fatal(err)
		}
		groups, err := groupTallies(srcs)
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(began)
		stop()
		g := groups["ref/hot"]
		want := shards * (1 + repeats*(chunk-1))
		if g == nil || g.Requests != want {
			b.Fatalf("merged %v, want %d requests", g, want)
		}
		b.ReportMetric(float64(*peak-base.HeapInuse)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(want)/took.Seconds(), "results/s")
		b.ReportMetric(float64(want), "results")
		b.ReportMetric(took.Seconds(), "merge-s")
	}
}

// encodedChunk encodes n results with one encoder: head is the first
// (with gob's type definition), body the other n-1 (values only), which
// may be repeated after head.
func encodedChunk(b *testing.B, n int) (head, body []byte) {
	var buf bytes.Buffer
	enc := vegeta.NewEncoder(&buf)
	rng := rand.New(rand.NewPCG(1, 2))
	t0 := time.Now()
	for i := range n {
		r := vegeta.Result{Attack: "ref/hot", Seq: uint64(i), Code: 200, Method: "GET", URL: "http://127.0.0.1:1/protected#3",
			Timestamp: t0.Add(time.Duration(i) * 100 * time.Microsecond), Latency: time.Duration(200+rng.IntN(20_000)) * time.Microsecond}
		switch i % 500 {
		case 7:
			r.Error, r.Code = "status 500 (hot#3): boom", 500
		case 11:
			r.Error = WrongPrefix + "200 with the wrong imf.sub"
		}
		if err := enc.Encode(&r); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			head = bytes.Clone(buf.Bytes())
		}
	}
	return head, buf.Bytes()[len(head):]
}

// repeatReader reads b n times.
type repeatReader struct {
	b   []byte
	n   int
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p, r.b[r.off:])
	if r.off += k; r.off == len(r.b) {
		r.off, r.n = 0, r.n-1
	}
	return k, nil
}

// samplePeakHeap samples the heap in use until stop is called.
func samplePeakHeap() (*uint64, func()) {
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return &peak, func() { close(done); wg.Wait() }
}
