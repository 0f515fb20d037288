package bench

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
	"golang.org/x/sync/errgroup"
)

// DefaultMaxStartSkew is how far apart the shards of one attack may have
// started: further, they did not offer their load together.
const DefaultMaxStartSkew = time.Second

// MergeOptions shape Merge.
type MergeOptions struct {
	// AllowMissingShards merges a split with shards missing (a note names
	// them) instead of failing.
	AllowMissingShards bool
}

// source is one file given to Merge: its tallies (one per attack).
type source struct {
	path    string
	shard   Shard // Count 0: untagged
	tallies []*Tally
	sum     [sha256.Size]byte
}

// Merge adds up the attacks of several load generators (or runs) into one
// report, in memory that does not grow with the request count: it reads
// the histogram files (.hdr.json, Tally) written beside the results files,
// and streams vegeta results files (binary, JSON or CSV: what older runs
// left, or what `vegeta attack` wrote) into the same histograms; results
// files carry no intended send times, so their latency is service latency.
// A results file given with its histogram file is skipped (the histogram
// is read). It fails (ErrConfig) when a shard of a split is missing (unless
// o.AllowMissingShards), when two files hold the same data (the same file
// twice, the same shard's attack in two folders), and when the shards of
// an attack started more than DefaultMaxStartSkew apart. Figures only the
// live run knows (target CPU, RSS, key fetches) are absent.
func Merge(ctx context.Context, paths []string, o MergeOptions) (*Report, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("%w: no results files to merge", ErrConfig)
	}
	paths, skipped := preferHistograms(paths)
	srcs, err := readSources(ctx, len(paths), func(ctx context.Context, i int) (*source, error) { return readSource(ctx, paths[i]) })
	if err != nil {
		return nil, err
	}
	if err := sameData(srcs); err != nil {
		return nil, err
	}
	rep := &Report{Shard: "merged", Machine: machine()}
	if skipped > 0 {
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d results files were given with their histogram files (%s) beside them: the histograms were merged, each attack once", skipped, TallyFileSuffix))
	}
	tags, gens := shardsOf(srcs)
	rep.Generators = gens
	for _, t := range tags {
		rep.GeneratorShards = append(rep.GeneratorShards, t.String())
	}
	if miss := missingShards(tags); len(miss) > 0 {
		if !o.AllowMissingShards {
			return nil, fmt.Errorf("%w: merge: %s (give every shard's files, or --allow-missing-shards to merge what there is)", ErrConfig, strings.Join(miss, "; "))
		}
		rep.Notes = append(rep.Notes, miss...)
	}
	groups, err := groupTallies(srcs)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := groups[n]
		a := &Attack{Name: g.Attack, Target: g.Target, Scenario: g.Scenario, OfferedRate: g.OfferedRate, Duration: g.Duration}
		a.fromTally(g)
		a.P50, a.P99, a.Max = a.Latency.P50, a.Latency.P99, a.Latency.Max
		for _, q := range percentiles {
			a.Percentiles = append(a.Percentiles, [2]float64{q * 100, float64(g.Service.ValueAtQuantile(q*100)) / 1000})
		}
		if rep.Started.IsZero() || g.Began.Before(rep.Started) {
			rep.Started = g.Began
		}
		rep.Attacks = append(rep.Attacks, a)
	}
	rep.finish(0)
	return rep, nil
}

// preferHistograms drops each results file whose histogram file
// (TallyFileName) is given too: both hold the same attack, and the
// histogram knows the intended send times. A glob such as 'gen-*/results/*'
// then merges each attack once.
func preferHistograms(paths []string) ([]string, int) {
	given := map[string]bool{}
	for _, p := range paths {
		given[filepath.Clean(p)] = true
	}
	out := paths[:0:0]
	for _, p := range paths {
		if !strings.HasSuffix(p, TallyFileSuffix) && given[filepath.Clean(TallyFileName(p))] {
			continue
		}
		out = append(out, p)
	}
	return out, len(paths) - len(out)
}

// readSources reads n sources, as many at once as there are CPUs to decode
// them (decoding vegeta's results is what a merge spends its time on).
func readSources(ctx context.Context, n int, read func(ctx context.Context, i int) (*source, error)) ([]*source, error) {
	srcs := make([]*source, n)
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i := range n {
		g.Go(func() error {
			s, err := read(ctx, i)
			srcs[i] = s
			return err
		})
	}
	return srcs, g.Wait()
}

// groupTallies adds up the tallies of each attack, refusing shards that
// started more than DefaultMaxStartSkew apart.
func groupTallies(srcs []*source) (map[string]*Tally, error) {
	type span struct {
		first, last time.Time
		a, b        string
	}
	groups := map[string]*Tally{}
	spans := map[string]*span{}
	for _, s := range srcs {
		for _, t := range s.tallies {
			g := groups[t.Attack]
			if g == nil {
				g = newTally(t.Attack, t.Target, t.Scenario)
				g.Began = time.Time{}
				groups[t.Attack] = g
				spans[t.Attack] = &span{first: t.Began, last: t.Began, a: s.path, b: s.path}
			}
			sp := spans[t.Attack]
			if t.Began.Before(sp.first) {
				sp.first, sp.a = t.Began, s.path
			}
			if t.Began.After(sp.last) {
				sp.last, sp.b = t.Began, s.path
			}
			if d := sp.last.Sub(sp.first); d > DefaultMaxStartSkew {
				return nil, fmt.Errorf("%w: merge: attack %s started %v apart in %s and %s (more than %v): the shards did not offer their load together (give them one --start-at)",
					ErrConfig, t.Attack, d.Round(time.Millisecond), sp.a, sp.b, DefaultMaxStartSkew)
			}
			g.Add(t)
		}
	}
	return groups, nil
}

// readSource reads one file: a histogram file, or a vegeta results file
// streamed into tallies.
func readSource(ctx context.Context, path string) (*source, error) {
	s := &source{path: path}
	if sh, ok := ShardOfFile(path); ok {
		s.shard = sh
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bench: merge: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	r := io.TeeReader(f, h)
	if strings.HasSuffix(path, TallyFileSuffix) {
		t, err := ReadTally(r)
		if err != nil {
			return nil, fmt.Errorf("%w: merge: %s: %w", ErrConfig, path, err)
		}
		if sh, err := ParseShard(t.Shard); err == nil && sh.Count > 1 {
			s.shard = sh
		}
		s.tallies = []*Tally{t}
	} else if s.tallies, err = streamResults(ctx, path, r); err != nil {
		return nil, err
	}
	copy(s.sum[:], h.Sum(nil))
	return s, nil
}

// streamResults reads a vegeta results file into one tally per attack
// name, one result at a time.
func streamResults(ctx context.Context, path string, r io.Reader) ([]*Tally, error) {
	dec := vegeta.DecoderFor(r)
	if dec == nil {
		return nil, fmt.Errorf("%w: merge: %s is not a vegeta results file (binary, JSON or CSV) nor a histogram file (%s)", ErrConfig, path, TallyFileSuffix)
	}
	byName := map[string]*Tally{}
	var order []*Tally
	var res vegeta.Result
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		res = vegeta.Result{}
		if err := dec.Decode(&res); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("%w: merge: %s result %d: %w", ErrConfig, path, n+1, err)
		}
		t := byName[res.Attack]
		if t == nil {
			target, scenario, _ := strings.Cut(res.Attack, "/")
			scenario, _, _ = strings.Cut(scenario, "@")
			t = newTally(res.Attack, target, scenario)
			t.CorrectedKnown, t.Began = false, res.Timestamp
			byName[res.Attack] = t
			order = append(order, t)
		}
		v, why := Correct, ""
		switch {
		case strings.HasPrefix(res.Error, WrongPrefix):
			v, why = Wrong, strings.TrimPrefix(res.Error, WrongPrefix)
		case res.Error != "":
			v = Failed
		}
		t.record(&res, v, true, why)
	}
	for _, t := range order {
		t.Due = t.Requests
	}
	return order, nil
}

// sameData refuses two files with the same content, the same run's
// attack and shard twice, and an attack of one shard (or one untagged
// directory) given by two files (e.g. its .bin and its .hdr.json).
func sameData(srcs []*source) error {
	bySum := map[[sha256.Size]byte]string{}
	byKey := map[string]string{}
	for _, s := range srcs {
		if p, ok := bySum[s.sum]; ok {
			return fmt.Errorf("%w: merge: %s and %s are the same data (identical files): give each shard's files once", ErrConfig, p, s.path)
		}
		bySum[s.sum] = s.path
		for _, t := range s.tallies {
			keys := []string{"dir " + filepath.Dir(s.path) + " attack " + t.Attack}
			if s.shard.Count > 1 {
				keys = []string{"shard " + s.shard.String() + " attack " + t.Attack}
			}
			if t.Run != "" {
				keys = append(keys, "run "+t.Run+" shard "+t.Shard+" attack "+t.Attack)
			}
			for _, k := range keys {
				if p, ok := byKey[k]; ok && p != s.path {
					return fmt.Errorf("%w: merge: %s and %s both hold attack %s of the same shard (%s): the same data twice; give the %s files or the results files, not both",
						ErrConfig, p, s.path, t.Attack, shardName(s.shard), TallyFileSuffix)
				}
				byKey[k] = s.path
			}
		}
	}
	return nil
}

func shardName(s Shard) string {
	if s.Count == 0 {
		return "untagged, same folder"
	}
	return s.String()
}

// shardsOf lists the shard tags of the sources (sorted) and counts the
// load generators: distinct tags, an untagged folder counting as one.
func shardsOf(srcs []*source) ([]Shard, int) {
	seen := map[string]bool{}
	var tags []Shard
	for _, s := range srcs {
		k := "dir:" + filepath.Dir(s.path)
		if s.shard.Count > 0 {
			k = s.shard.String()
			if !seen[k] {
				tags = append(tags, s.shard)
			}
		}
		seen[k] = true
	}
	sort.Slice(tags, func(i, j int) bool {
		if tags[i].Count != tags[j].Count {
			return tags[i].Count < tags[j].Count
		}
		return tags[i].Index < tags[j].Index
	})
	return tags, len(seen)
}

var shardTag = regexp.MustCompile(`\.shard-(\d+)-of-(\d+)\.[a-z.]+$`)

// ShardOfFile reads the shard tag of a results or histogram file name
// (ResultsFileName, TallyFileName).
func ShardOfFile(path string) (Shard, bool) {
	m := shardTag.FindStringSubmatch(filepath.Base(path))
	if m == nil {
		return Shard{}, false
	}
	sh, err := ParseShard(m[1] + "/" + m[2])
	return sh, err == nil
}

// missingShards names the shards of a split that no file came from, and
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
