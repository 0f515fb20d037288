package fakeaz

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// GarbageBody is a response body that is not JSON, for FaultSpec.Body.
const GarbageBody = "<html>\x00garbage{{not json"

// FaultSpec makes the AZ misbehave on an endpoint. A request matching an
// active fault is first delayed (Delay), then held (Hang) until ClearFaults,
// Close or the client giving up, then answered with Status and Body; with
// Status 0 it is served normally after the delay/hang.
type FaultSpec struct {
	// Endpoint is one of Endpoints(), or "" / "*" for every AZ endpoint.
	Endpoint string
	// AppID limits the fault to one app ("" = every app, including unknown ids).
	AppID string
	// Status, when non-zero, replaces the response: this status with Body
	// (e.g. 500; or 200 with GarbageBody or an empty Body).
	Status int
	// Body is the response body when Status is set ("" = empty body).
	Body string
	// ContentType of the faulty response (default application/json).
	ContentType string
	// Delay postpones the response (real time, not the injected clock).
	Delay time.Duration
	// Hang holds the request until ClearFaults, Close, or the client's
	// cancellation. It never blocks Close.
	Hang bool
	// EveryNth applies the fault to every Nth matching request only
	// (the Nth, 2Nth, ...); 0 or 1: every request.
	EveryNth int
	// Until ends the fault at this time of the server clock (zero: no end).
	Until time.Time
	// For ends the fault this long after SetFault (server clock); it sets Until.
	For time.Duration
}

type fault struct {
	spec    FaultSpec
	matched int // matching requests seen, for EveryNth
}

// SetFault activates a fault. Several faults may be active: the first one
// (in the order they were set) that matches a request and is due applies.
func (s *Server) SetFault(f FaultSpec) error {
	if f.Endpoint == "*" {
		f.Endpoint = ""
	}
	if f.Endpoint != "" && !slices.Contains(endpoints, f.Endpoint) {
		return fmt.Errorf("%w: endpoint %q: use one of %v or \"*\"", ErrInvalidFault, f.Endpoint, endpoints)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fmt.Errorf("%w: status %d is not an HTTP status", ErrInvalidFault, f.Status)
	}
	if f.Delay < 0 || f.For < 0 || f.EveryNth < 0 {
		return fmt.Errorf("%w: delay, for and everyNth must not be negative", ErrInvalidFault)
	}
	if f.Status == 0 && f.Delay == 0 && !f.Hang {
		return fmt.Errorf("%w: a fault needs a status, a delay or hang", ErrInvalidFault)
	}
	if f.For > 0 {
		f.Until = s.now().Add(f.For)
		f.For = 0
	}
	s.mu.Lock()
	s.faults = append(s.faults, &fault{spec: f})
	s.mu.Unlock()
	return nil
}

// Faults returns the active faults.
func (s *Server) Faults() []FaultSpec {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var out []FaultSpec
	for _, f := range s.faults {
		if f.spec.Until.IsZero() || now.Before(f.spec.Until) {
			out = append(out, f.spec)
		}
	}
	return out
}

// ClearFaults removes every fault and releases requests held by Hang faults.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	close(s.release)
	s.release = make(chan struct{})
	s.mu.Unlock()
}

// applyFaults applies the first matching fault. It returns true when the
// request should be served normally.
func (s *Server) applyFaults(w *recorder, r *http.Request, endpoint, appID string) bool {
	now := s.now()
	s.mu.Lock()
	var spec *FaultSpec
	kept := s.faults[:0]
	for _, f := range s.faults {
		if !f.spec.Until.IsZero() && !now.Before(f.spec.Until) {
			continue // expired: drop
		}
		kept = append(kept, f)
		if spec != nil || (f.spec.Endpoint != "" && f.spec.Endpoint != endpoint) || (f.spec.AppID != "" && f.spec.AppID != appID) {
			continue
		}
		f.matched++
		if f.spec.EveryNth > 1 && f.matched%f.spec.EveryNth != 0 {
			continue
		}
		sp := f.spec
		spec = &sp
	}
	clear(s.faults[len(kept):])
	s.faults = kept
	release := s.release
	s.mu.Unlock()
	if spec == nil {
		return true
	}
	w.outcome = "fault"
	if spec.Delay > 0 {
		t := time.NewTimer(spec.Delay)
		select {
		case <-t.C:
		case <-release:
		case <-s.closed:
		case <-r.Context().Done():
		}
		t.Stop()
	}
	if spec.Hang {
		select {
		case <-release:
		case <-s.closed:
		case <-r.Context().Done():
		}
	}
	if r.Context().Err() != nil {
		return false
	}
	select {
	case <-s.closed:
		writeErr(w, http.StatusServiceUnavailable, "fault", "the server is closing")
		return false
	default:
	}
	if spec.Status == 0 {
		w.outcome = ""
		return true
	}
	ct := spec.ContentType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(spec.Status)
	_, _ = w.Write([]byte(spec.Body))
	return false
}

// Stats are request counters per AZ endpoint, overall and per app id.
type Stats struct {
	// Total maps endpoint → requests.
	Total map[string]int `json:"total"`
	// ByApp maps app id → endpoint → requests (unknown app ids included, up
	// to MaxStatsApps distinct ids).
	ByApp map[string]map[string]int `json:"byApp"`
}

// MaxStatsApps bounds the number of app ids Stats tracks individually.
const MaxStatsApps = 10000

// Count returns the requests seen on endpoint for appID ("" = all apps).
func (st Stats) Count(endpoint, appID string) int {
	if appID == "" {
		return st.Total[endpoint]
	}
	return st.ByApp[appID][endpoint]
}

type statsState struct {
	total map[string]int
	byApp map[string]map[string]int
}

func (st *statsState) reset() {
	st.total = map[string]int{}
	st.byApp = map[string]map[string]int{}
}

func (st *statsState) count(mu *sync.Mutex, endpoint, appID string) {
	mu.Lock()
	defer mu.Unlock()
	st.total[endpoint]++
	m := st.byApp[appID]
	if m == nil {
		if len(st.byApp) >= MaxStatsApps {
			return
		}
		m = map[string]int{}
		st.byApp[appID] = m
	}
	m[endpoint]++
}

// Stats returns a copy of the request counters (every request reaching an AZ
// endpoint counts, including faulted ones and those for unknown apps).
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{Total: map[string]int{}, ByApp: map[string]map[string]int{}}
	for k, v := range s.stats.total {
		out.Total[k] = v
	}
	for a, m := range s.stats.byApp {
		c := make(map[string]int, len(m))
		for k, v := range m {
			c[k] = v
		}
		out.ByApp[a] = c
	}
	return out
}

// ResetStats zeroes the request counters.
func (s *Server) ResetStats() {
	s.mu.Lock()
	s.stats.reset()
	s.mu.Unlock()
}
