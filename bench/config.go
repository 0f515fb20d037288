package bench

import (
	cryptorand "crypto/rand"
	"crypto/rsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/defaults"
	"github.com/mcaspec/mcaspec/reference"
)

// Defaults of a Config's zero fields.
const (
	// DefaultRate is the offered rate (requests per second, per target,
	// before the shard split) of a fixed-rate attack.
	DefaultRate = 300.0
	// DefaultDuration is the length of one fixed-rate attack.
	DefaultDuration = 5 * time.Second
	// DefaultWorkers and DefaultMaxWorkers bound vegeta's workers (the
	// requests in flight); DefaultConnections its connections per host. An
	// open model with unbounded workers collapses a 2-core machine.
	DefaultWorkers     = 8
	DefaultMaxWorkers  = 32
	DefaultConnections = 32
	// DefaultTimeout bounds one request.
	DefaultTimeout = 10 * time.Second
	// DefaultMaxBody is how much of each response body is read (and checked).
	DefaultMaxBody = 64 << 10
	// DefaultHangThreshold: a response slower than this counts as a hang.
	DefaultHangThreshold = 5 * time.Second
	// DefaultColdFactor sizes the cold pool: this many times the target's
	// cache size, so that cycling through it misses an LRU cache every time.
	DefaultColdFactor = 1.2
	// DefaultWarmSize is the warm pool size (capped at half the cache size).
	DefaultWarmSize = 1000
	// DefaultKeyfetchApps and DefaultKeyfetchPairs shape the keyfetch scenario:
	// that many fresh app ids, with that many token pairs each.
	DefaultKeyfetchApps  = 20
	DefaultKeyfetchPairs = 5
	// DefaultOutageApps is how many fresh app ids the outage scenario probes
	// (one per time slot: before, during and after the fault).
	DefaultOutageApps = 12
	// DefaultFleetSize and DefaultFleetCalls shape the fleet scenario: that many
	// simulated devices, each logging in then calling the target that many times.
	DefaultFleetSize  = 40
	DefaultFleetCalls = 5
	// DefaultOut is the output directory of the CLI.
	DefaultOut = "out/bench"
	// DefaultShortCacheSize is the in-process reference's cache size in the
	// short benchmark, so that its cold pool mints in about a second.
	DefaultShortCacheSize = 1000

	// Find-max defaults: start at DefaultStartRate, multiply by DefaultStepFactor
	// each step of DefaultStepDuration, at most DefaultMaxSteps steps, until p99
	// passes DefaultMaxP99, the error rate DefaultMaxErrorRate, or the achieved
	// throughput falls under DefaultMinAchieved of the offered rate.
	DefaultStartRate    = 200.0
	DefaultStepFactor   = 1.5
	DefaultStepDuration = 3 * time.Second
	DefaultMaxSteps     = 12
	DefaultMaxP99       = 100 * time.Millisecond
	DefaultMaxErrorRate = 0.01
	DefaultMinAchieved  = 0.9
	// DefaultMinRate is the lowest rate find-max steps down to when its
	// first step already breaks a bound.
	DefaultMinRate = 10.0
)

// Target kinds.
const (
	KindReference = "reference" // the reference target, in-process
	KindBaseline  = "baseline"  // the no-validation baseline, in-process
	KindCommand   = "command"   // a process started by targets/launch
	KindURL       = "url"       // a running target at URL, not started by the bench
	KindBare      = "bare"      // the no-auth ceiling (bench/baseline's bare mode), in-process
)

// DefaultStartLate is how late a StartAt may be when Run begins: later,
// the other shards have started without this one and Run refuses.
const DefaultStartLate = 5 * time.Second

// MaxStartWait bounds how far in the future StartAt may be.
const MaxStartWait = 24 * time.Hour

// TargetSpec names a target to measure.
type TargetSpec struct {
	// Name labels the target in reports (unique in a run).
	Name string
	// Kind is KindReference, KindBaseline, KindCommand or KindURL.
	Kind string
	// URL (KindURL) is the base URL of a running target (http or https,
	// any host): the bench neither starts nor stops it, and cannot read its
	// CPU time or memory.
	URL string
	// Command (KindCommand) runs through sh -c with the target contract's
	// environment, e.g. "node targets/bms-mca-resource/server.js"; Dir is its
	// working directory.
	Command, Dir string
	// Reference overrides the in-process reference validator's config
	// (e.g. CacheSize); ServerURL is set by the benchmark.
	Reference reference.Config
	// CacheSize is the target's cache size, used to size the warm and cold
	// pools (default: Reference.CacheSize, else reference.DefaultCacheSize).
	CacheSize int
	// Unchecked marks a target that does not validate (the baseline):
	// broken tokens it accepts are not counted as wrong answers.
	Unchecked bool
	// NoAuth marks a no-auth ceiling (bare): it answers a fixed body without
	// any token work, so only the status (200) is checked.
	NoAuth bool
}

// Reference returns the in-process reference target.
func Reference() TargetSpec { return TargetSpec{Name: "reference", Kind: KindReference} }

// Baseline returns the in-process no-validation baseline.
func Baseline() TargetSpec { return TargetSpec{Name: "baseline", Kind: KindBaseline, Unchecked: true} }

// Bare returns the in-process no-auth ceiling: the baseline's server
// answering a fixed body, no token work at all.
func Bare() TargetSpec {
	return TargetSpec{Name: "bare", Kind: KindBare, Unchecked: true, NoAuth: true}
}

// Running returns a running target at url, not started by the bench.
func Running(name, url string) TargetSpec {
	return TargetSpec{Name: name, Kind: KindURL, URL: strings.TrimRight(url, "/")}
}

// Command returns a launched target.
func Command(name, command string) TargetSpec {
	return TargetSpec{Name: name, Kind: KindCommand, Command: command}
}

func (t TargetSpec) cacheSize() int {
	switch {
	case t.CacheSize > 0:
		return t.CacheSize
	case t.Kind == KindReference && t.Reference.CacheSize > 0:
		return t.Reference.CacheSize
	case t.Kind == KindBaseline, t.Kind == KindBare, t.NoAuth:
		return 0 // no cache: does not size the pools
	}
	return reference.DefaultCacheSize
}

// Shard is one part of a load split over several load generators: it
// offers Rate/Count and uses token pools disjoint from every other shard's.
type Shard struct{ Index, Count int }

// ParseShard parses "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n || n > 256 {
		return Shard{}, fmt.Errorf("%w: shard %q: want i/n with 0 <= i < n <= 256, e.g. 0/4", ErrConfig, s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// FindMax configures the search for the sustainable rate: up by Factor
// from StartRate while every step holds the bounds (MaxP99, MaxErrorRate,
// MinAchieved of the offered rate as correct answers, no wrong answer);
// down when the first step already breaks one, until a step holds them
// (not under MinRate); then bisecting between the highest rate that held
// and the lowest that did not until they are within Precision (a ratio).
// At most MaxSteps steps of StepDuration, and no step started after
// Budget (0: no time budget) since the first step ended (the first
// step's preparation may mint the token pools).
type FindMax struct {
	StartRate    float64
	Factor       float64
	StepDuration time.Duration
	MaxSteps     int
	MaxP99       time.Duration
	MaxErrorRate float64
	MinAchieved  float64
	// Precision defaults to Factor (stepping up alone reaches it).
	Precision float64       `json:",omitempty"`
	MinRate   float64       `json:",omitempty"`
	Budget    time.Duration `json:",omitempty"`
}

// Config configures a benchmark run. The zero value (with Targets and
// Scenarios empty) is the short benchmark's shape at full length; see
// DefaultShort.
type Config struct {
	// Scenarios to run, by name (default hot and cold).
	Scenarios []string
	// Targets to measure side by side (default the in-process reference and the baseline).
	Targets []TargetSpec
	// Rate is the offered rate per target (req/s, split over the shards); Duration the attack length.
	Rate     float64
	Duration time.Duration
	// RateMax replaces the paced (open-model) attack by a closed model:
	// MaxWorkers requests in flight, each sent as soon as one is answered,
	// for Duration (`--rate max`). Rate is then ignored; reports say so.
	RateMax bool
	// MaxRequests, when > 0, ends each attack after that many requests
	// (Duration still bounds it in time).
	MaxRequests uint64
	// Workers, MaxWorkers and Connections bound the load generator.
	Workers, MaxWorkers uint64
	Connections         int
	Timeout             time.Duration
	HangThreshold       time.Duration
	// FindMax, when non-nil, replaces the fixed-rate attack by a stepped search.
	FindMax *FindMax
	// Shard splits the rate and the token pools (default 0/1).
	Shard Shard
	// OutDir receives the results files (vegeta's binary format, one per
	// attack); "" keeps nothing on disk. Reports are written by WriteReports.
	OutDir string
	// PoolFile caches the cold pool (JSON lines, tokenfactory.WritePool)
	// with a ".meta.json" beside it: reused when it still fits, else re-minted.
	PoolFile string
	// ColdFactor, WarmSize, Keyfetch*, OutageApps and Fleet* shape the
	// scenarios (defaults above). FloodDistinct bounds the distinct broken
	// tokens of invalid-flood (0: every request a new one).
	ColdFactor                  float64
	WarmSize                    int
	KeyfetchApps, KeyfetchPairs int
	OutageApps                  int
	FleetSize, FleetCalls       int
	FloodDistinct               uint64
	// ColdAccessOnly makes the cold pool access tokens without id tokens:
	// half the minting cost, one RSA verify per request (memory runs with
	// pools of many times the cache size).
	ColdAccessOnly bool
	// MeasureVerify measures the raw cost of rsa.VerifyPKCS1v15 (RSA-2048)
	// before the attacks, for the cold scenario's CPU ratio.
	MeasureVerify bool
	// Progress receives a line per second while attacking (nil: quiet).
	Progress io.Writer
	// Keys, when set, are the RSA signing keys the fake AZ gives its apps
	// (cycled); default two fresh RSA-2048 keys. Tests share them.
	Keys []*rsa.PrivateKey
	// DeviceKey is the fleet's device key (default a fresh 1024-bit key).
	DeviceKey *rsa.PrivateKey
	// Seed makes the generated broken tokens reproducible.
	Seed uint64
	// Clock defaults to time.Now.
	Clock func() time.Time

	// AZ, when set, is an AZ the targets already trust (a fakeaz the user
	// runs with a shared key), used instead of the in-process fake AZ.
	AZ *RemoteAZ
	// Admin overrides the client of AZ's admin API (default:
	// fakeaz/adminclient at AZ.AdminURL).
	Admin AdminAPI
	// Tokens, when set, are tokens a real AZ issued: no AZ at all, only the
	// scenarios that need no minting (hot, warm, invalid-flood). Token i
	// goes to shard i mod n. TokensAppID is the app id of the request paths
	// (default: each access token's aud).
	Tokens      []Token
	TokensAppID string
	// StartAt, when set, is when the first attack begins (a start barrier
	// for shards on several hosts, without a coordinator). More than
	// DefaultStartLate in the past when Run begins is a configuration
	// error; reached late after the setup, the attack starts at once and a
	// note says how late.
	StartAt time.Time
	// SinkListen is the propagation sink's listen address (default
	// 127.0.0.1:0); SinkURL the URL the targets reach it at (default derived
	// from the listen address). A remote target must allow its host
	// (MCA_DOWNSTREAM_HOSTS).
	SinkListen, SinkURL string
	// Bounds judge the run (Report.Judge): wrong answers, the success
	// share, the send share and every threshold.
	Bounds Bounds
	// Live, when set, receives every result as it is checked (Prometheus
	// metrics while the run goes on).
	Live *Live
	// PoolFileForce lets PoolFile replace an existing file that is not a
	// pool file (no pool metadata beside it).
	PoolFileForce bool

	runID string
}

// ErrConfig is wrapped by configuration errors.
var ErrConfig = errors.New("bench: bad configuration")

// ErrWrongAnswers is returned by Run (with the full report) when any
// response was wrong, or a scenario that must not hang had a hang.
var ErrWrongAnswers = errors.New("bench: wrong answers")

// DefaultShort is the short benchmark of `mcaspec bench` with no flags and
// of the main job: hot and cold against the in-process reference (cache
// size DefaultShortCacheSize) and the baseline, 2 s per attack.
func DefaultShort() Config {
	ref := Reference()
	ref.Reference.CacheSize = DefaultShortCacheSize
	return Config{
		Scenarios: []string{"hot", "cold"},
		Targets:   []TargetSpec{ref, Baseline()},
		Rate:      DefaultRate,
		Duration:  2 * time.Second,
	}
}

// defaults checks c and fills in what is left zero. The checks run in a
// fixed order, so a config with several faults is refused for the first.
func (c *Config) defaults() error {
	if len(c.Scenarios) == 0 {
		c.Scenarios = []string{"hot", "cold"}
	}
	if len(c.Targets) == 0 {
		c.Targets = []TargetSpec{Reference(), Baseline()}
	}
	if err := c.checkTargets(); err != nil {
		return err
	}
	if err := c.checkSources(); err != nil {
		return err
	}
	if err := c.checkShardAndRates(); err != nil {
		return err
	}
	c.fillLoad()
	if c.Duration > time.Hour || c.Rate > 1e6 {
		return fmt.Errorf("%w: duration %v / rate %v out of bounds (<= 1h, <= 1e6/s)", ErrConfig, c.Duration, c.Rate)
	}
	if f := c.FindMax; f != nil {
		if err := f.defaults(); err != nil {
			return err
		}
	}
	if c.Clock == nil {
		c.Clock = time.Now
	}
	if err := c.checkCold(); err != nil {
		return err
	}
	if err := checkPoolFile(c.PoolFile, c.PoolFileForce); err != nil {
		return err
	}
	if c.RateMax && c.FindMax != nil {
		return fmt.Errorf("%w: rate max (a closed model) and find-max (paced steps): choose one", ErrConfig)
	}
	if c.runID == "" {
		var b [8]byte
		_, _ = cryptorand.Read(b[:])
		c.runID = hex.EncodeToString(b[:])
	}
	return c.checkStartAt()
}

// checkTargets refuses a target without a name or with a name already
// taken, of an unknown kind, or missing what its kind needs.
func (c *Config) checkTargets() error {
	seen := map[string]bool{}
	for i, t := range c.Targets {
		if t.Name == "" {
			return fmt.Errorf("%w: target %d has no name", ErrConfig, i)
		}
		if seen[t.Name] {
			return fmt.Errorf("%w: two targets named %q", ErrConfig, t.Name)
		}
		seen[t.Name] = true
		if err := c.checkTarget(t); err != nil {
			return err
		}
	}
	return nil
}

// checkTarget checks one target against its kind.
func (c *Config) checkTarget(t TargetSpec) error {
	switch t.Kind {
	case KindReference, KindCommand:
		if len(c.Tokens) > 0 {
			return fmt.Errorf("%w: target %q: with given tokens the bench cannot configure a target it starts (no AZ): use a running target URL", ErrConfig, t.Name)
		}
	}
	switch t.Kind {
	case KindReference, KindBaseline, KindBare:
	case KindURL:
		if err := checkTargetURL(t.URL); err != nil {
			return fmt.Errorf("%w: target %q: %w", ErrConfig, t.Name, err)
		}
	case KindCommand:
		if strings.TrimSpace(t.Command) == "" {
			return fmt.Errorf("%w: target %q has no command", ErrConfig, t.Name)
		}
	default:
		return fmt.Errorf("%w: target %q: kind %q (want %s, %s, %s, %s or %s)", ErrConfig, t.Name, t.Kind, KindReference, KindBaseline, KindBare, KindCommand, KindURL)
	}
	return nil
}

// checkSources checks where tokens come from (given tokens or an AZ, not
// both) and that every scenario is known and can run with that source.
func (c *Config) checkSources() error {
	if len(c.Tokens) > 0 && c.AZ != nil {
		return fmt.Errorf("%w: given tokens and a remote AZ: choose one", ErrConfig)
	}
	if c.AZ != nil {
		if err := c.AZ.check(); err != nil {
			return err
		}
	}
	for _, s := range c.Scenarios {
		sc, ok := Lookup(s)
		if !ok {
			return fmt.Errorf("%w: unknown scenario %q (known: %s)", ErrConfig, s, strings.Join(Names(), ", "))
		}
		if len(c.Tokens) > 0 && sc.needs != needTokens {
			return fmt.Errorf("%w: scenario %s needs an AZ the bench can mint with (given tokens allow %s only): %s", ErrConfig, s, strings.Join(tokenScenarios(), ", "), needAZControl)
		}
	}
	return nil
}

// checkShardAndRates defaults the shard and checks it, the rates and the
// duration as given (before their defaults are filled in).
func (c *Config) checkShardAndRates() error {
	if c.Shard.Count == 0 {
		c.Shard = Shard{0, 1}
	}
	if c.Shard.Index < 0 || c.Shard.Index >= c.Shard.Count {
		return fmt.Errorf("%w: shard %s", ErrConfig, c.Shard)
	}
	// A zero rate or duration is the default (the zero Config is usable);
	// anything else that is not positive and finite is refused: a rate the
	// pacer cannot honour must never turn into an unpaced flood.
	if err := checkRates(namedRate{"rate", c.Rate}, namedRate{"cold factor", c.ColdFactor}); err != nil {
		return err
	}
	if c.Duration < 0 {
		return fmt.Errorf("%w: duration %v: want a positive length", ErrConfig, c.Duration)
	}
	return nil
}

// fillLoad fills in the load's sizes left zero (or negative) with their
// defaults, and caps the workers at the maximum.
func (c *Config) fillLoad() {
	defaults.Set(&c.Rate, DefaultRate)
	defaults.Set(&c.ColdFactor, DefaultColdFactor)
	defaults.Set(&c.Duration, DefaultDuration)
	defaults.Set(&c.Timeout, DefaultTimeout)
	defaults.Set(&c.HangThreshold, DefaultHangThreshold)
	defaults.Set(&c.Connections, DefaultConnections)
	defaults.Set(&c.WarmSize, DefaultWarmSize)
	defaults.Set(&c.KeyfetchApps, DefaultKeyfetchApps)
	defaults.Set(&c.KeyfetchPairs, DefaultKeyfetchPairs)
	defaults.Set(&c.OutageApps, DefaultOutageApps)
	defaults.Set(&c.FleetSize, DefaultFleetSize)
	defaults.Set(&c.FleetCalls, DefaultFleetCalls)
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.MaxWorkers == 0 {
		c.MaxWorkers = DefaultMaxWorkers
	}
	if c.Workers > c.MaxWorkers {
		c.Workers = c.MaxWorkers
	}
}

// defaults checks the find-max settings given and fills in the rest.
func (f *FindMax) defaults() error {
	if err := checkRates(
		namedRate{"find-max start rate", f.StartRate}, namedRate{"find-max step factor", f.Factor},
		namedRate{"find-max precision", f.Precision}, namedRate{"find-max minimum rate", f.MinRate},
	); err != nil {
		return err
	}
	defaults.Set(&f.StartRate, DefaultStartRate)
	defaults.Set(&f.Factor, DefaultStepFactor)
	defaults.Set(&f.MaxErrorRate, DefaultMaxErrorRate)
	defaults.Set(&f.MinAchieved, DefaultMinAchieved)
	defaults.Set(&f.StepDuration, DefaultStepDuration)
	defaults.Set(&f.MaxP99, DefaultMaxP99)
	defaults.Set(&f.MaxSteps, DefaultMaxSteps)
	defaults.Set(&f.Precision, f.Factor)
	defaults.Set(&f.MinRate, DefaultMinRate)
	if f.Factor <= 1 || f.Precision <= 1 || f.MaxSteps > 50 || f.Budget < 0 {
		return fmt.Errorf("%w: find-max factor and precision must be > 1, steps <= 50, the budget positive", ErrConfig)
	}
	return nil
}

// checkStartAt refuses a start time already past (the other shards have
// started) or too far away.
func (c *Config) checkStartAt() error {
	if c.StartAt.IsZero() {
		return nil
	}
	switch now := c.Clock(); {
	case c.StartAt.Before(now.Add(-DefaultStartLate)):
		return fmt.Errorf("%w: start time %s is %v in the past: the other shards have started; give every shard a later time", ErrConfig,
			c.StartAt.Format(time.RFC3339), now.Sub(c.StartAt).Round(time.Second))
	case c.StartAt.After(now.Add(MaxStartWait)):
		return fmt.Errorf("%w: start time %s is more than %v away", ErrConfig, c.StartAt.Format(time.RFC3339), MaxStartWait)
	}
	return nil
}

// namedRate is a rate (or factor) as given, with the name an error uses.
type namedRate struct {
	name string
	v    float64
}

// checkRates checks each rate given (zero means the default, so is not
// checked), refusing the first one checkRate refuses.
func checkRates(rates ...namedRate) error {
	for _, r := range rates {
		if r.v != 0 {
			if err := checkRate(r.name, r.v); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCold refuses a cold scenario whose pool would not be cold: no
// target with a cache to size it by, or a factor that fits the pool in the
// cache (or leaves it empty).
func (c *Config) checkCold() error {
	cold := false
	for _, s := range c.Scenarios {
		cold = cold || s == "cold"
	}
	if !cold {
		return nil
	}
	n := 0
	for _, t := range c.Targets {
		n = max(n, t.cacheSize())
	}
	switch {
	case n == 0:
		return fmt.Errorf("%w: scenario cold: no target has a cache (baseline and bare have none) to size the cold pool by: measure cold with a validating target beside them (--compare reference), or give the target's cache size", ErrConfig)
	case c.ColdFactor <= 1:
		return fmt.Errorf("%w: scenario cold: cold factor %g: the pool (factor x the cache size %d) must be larger than the cache, or every request hits it (want a factor > 1, e.g. 1.2)", ErrConfig, c.ColdFactor, n)
	}
	return nil
}

// needAZControl says how to get an AZ the bench controls.
const needAZControl = "point --az-url (Config.AZ) at a fakeaz started with --key whose admin API is reachable (--az-admin-url, --az-admin-token)"

// checkTargetURL accepts http and https URLs of any host.
func checkTargetURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("URL %q: want http(s)://host[:port][/base path] of a running target", s)
	}
	return nil
}
