package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// Merge reads results files written by Run (vegeta's binary, JSON or CSV
// result formats, e.g. one per shard) and rebuilds the figures per attack
// name: results of the same attack from several shards are merged, as
// `vegeta report a.bin b.bin` would. Wrong answers are found again by their
// WrongPrefix error. Figures that only the live run knows (target CPU,
// RSS, key fetches) are absent.
func Merge(ctx context.Context, paths []string) (*Report, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no results files to merge", ErrConfig)
	}
	type group struct {
		a     *Attack
		m     *vegeta.Metrics
		began time.Time
		rs    []vegeta.Result
	}
	groups := map[string]*group{}
	gens := map[string]bool{}
	var tags []Shard
	for _, p := range paths {
		if sh, ok := ShardOfFile(p); ok {
			if !gens[sh.String()] {
				tags = append(tags, sh)
			}
			gens[sh.String()] = true
		} else {
			gens["dir:"+filepath.Dir(p)] = true // one untagged run per directory
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, fmt.Errorf("bench: merge: %w", err)
		}
		dec := vegeta.DecoderFor(f)
		if dec == nil {
			_ = f.Close()
			return nil, fmt.Errorf("bench: merge: %s is not a vegeta results file (binary, JSON or CSV)", p)
		}
		for n := 0; ; n++ {
			if n%4096 == 0 {
				if err := ctx.Err(); err != nil {
					_ = f.Close()
					return nil, err
				}
			}
			var r vegeta.Result
			if err := dec.Decode(&r); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				_ = f.Close()
				return nil, fmt.Errorf("bench: merge: %s result %d: %w", p, n+1, err)
			}
			g := groups[r.Attack]
			if g == nil {
				target, scenario, _ := strings.Cut(r.Attack, "/")
				scenario, _, _ = strings.Cut(scenario, "@")
				g = &group{a: &Attack{Name: r.Attack, Target: target, Scenario: scenario}, m: &vegeta.Metrics{}}
				groups[r.Attack] = g
			}
			g.rs = append(g.rs, r)
		}
		_ = f.Close()
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	rep := &Report{Started: time.Now(), Shard: "merged", Machine: machine(), Generators: len(gens)}
	sort.Slice(tags, func(i, j int) bool {
		if tags[i].Count != tags[j].Count {
			return tags[i].Count < tags[j].Count
		}
		return tags[i].Index < tags[j].Index
	})
	for _, t := range tags {
		rep.GeneratorShards = append(rep.GeneratorShards, t.String())
	}
	rep.Notes = append(rep.Notes, missingShards(tags)...)
	for _, n := range names {
		g := groups[n]
		sort.Slice(g.rs, func(i, j int) bool { return g.rs[i].Timestamp.Before(g.rs[j].Timestamp) })
		a := g.a
		for i := range g.rs {
			r := &g.rs[i]
			if i == 0 {
				g.began = r.Timestamp
			}
			g.m.Add(r)
			sec := int(r.Timestamp.Sub(g.began) / time.Second)
			for len(a.Timeline) <= sec && sec < 3600 {
				a.Timeline = append(a.Timeline, Second{T: len(a.Timeline)})
			}
			var s *Second
			if sec < len(a.Timeline) {
				s = &a.Timeline[sec]
				s.Sent++
			}
			switch {
			case r.Error == "":
				a.Correct++
				if s != nil {
					s.Correct++
				}
			case strings.HasPrefix(r.Error, WrongPrefix):
				a.Wrong++
				if len(a.WrongSamples) < maxSamples {
					a.WrongSamples = append(a.WrongSamples, strings.TrimPrefix(r.Error, WrongPrefix))
				}
				if s != nil {
					s.Wrong++
				}
			default:
				a.Errors++
				if s != nil {
					s.Errors++
				}
			}
		}
		g.m.Close()
		a.Metrics = g.m
		a.Requests = int(g.m.Requests)
		a.AchievedRate = g.m.Rate
		if span := (g.m.Duration + g.m.Wait).Seconds(); span > 0 {
			a.Throughput = float64(a.Correct) / span
		}
		a.P50, a.P99, a.Max = ms(g.m.Latencies.P50), ms(g.m.Latencies.P99), ms(g.m.Latencies.Max)
		for _, q := range percentiles {
			a.Percentiles = append(a.Percentiles, [2]float64{q * 100, ms(g.m.Latencies.Quantile(q))})
		}
		rep.Attacks = append(rep.Attacks, a)
	}
	rep.finish(0)
	return rep, nil
}

var shardTag = regexp.MustCompile(`\.shard-(\d+)-of-(\d+)\.[a-z]+$`)

// ShardOfFile reads the shard tag of a results file name (ResultsFileName).
func ShardOfFile(path string) (Shard, bool) {
	m := shardTag.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return Shard{}, false
	}
	sh, err := ParseShard(m[1] + "/" + m[2])
	return sh, err == nil
}

// missingShards notes the shards of a split that no file came from, and
// splits of different sizes.
func missingShards(tags []Shard) []string {
	byCount := map[int]map[int]bool{}
	for _, t := range tags {
		if byCount[t.Count] == nil {
			byCount[t.Count] = map[int]bool{}
		}
		byCount[t.Count][t.Index] = true
	}
	var notes []string
	if len(byCount) > 1 {
		notes = append(notes, fmt.Sprintf("results of splits of different sizes merged (%d sizes): check the files", len(byCount)))
	}
	counts := make([]int, 0, len(byCount))
	for n := range byCount {
		counts = append(counts, n)
	}
	sort.Ints(counts)
	for _, n := range counts {
		var miss []string
		for i := range n {
			if !byCount[n][i] {
				miss = append(miss, Shard{i, n}.String())
			}
		}
		if len(miss) > 0 {
			notes = append(notes, fmt.Sprintf("no results from shard %s: the merged load is not the whole split's", strings.Join(miss, ", ")))
		}
	}
	return notes
}
