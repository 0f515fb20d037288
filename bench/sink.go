package bench

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/internal/listen"
)

// injectHeader is sent by the propagation scenario on every request: a
// target must not forward it downstream (an identity header a client
// injects must not reach the next service).
const injectHeader = "X-Imf-User"

// sinkEcho is what the sink answers: a digest of what it received.
type sinkEcho struct {
	AuthSHA256 string `json:"auth_sha256"`
	Prn        string `json:"prn"`
	Bearer     bool   `json:"bearer"`
	Injected   bool   `json:"injected"`
}

// sink is the downstream service of the propagation scenario, on loopback.
type sink struct {
	srv  listen.Server
	url  string
	hits atomic.Int64
}

// startSink listens on addr (default 127.0.0.1:0); public, when set, is
// the URL the targets reach it at.
func startSink(addr, public string) (*sink, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	s := &sink{}
	err := s.srv.Start(addr, &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		h := r.Header.Get("Authorization")
		prn, bearer := prnOf(h)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(sinkEcho{AuthSHA256: authHash(h), Prn: prn, Bearer: bearer, Injected: r.Header.Get(injectHeader) != ""})
	})})
	if err != nil {
		return nil, fmt.Errorf("bench: sink: %w", err)
	}
	s.url = s.srv.URL() + "/echo"
	if public != "" {
		s.url = strings.TrimRight(public, "/") + "/echo"
	}
	return s, nil
}

func (s *sink) Close() error { return s.srv.Close() }

// sinkHits is how many requests the sink received (0 without a sink).
func (e *env) sinkHits() int64 {
	if e.sink == nil {
		return 0
	}
	return e.sink.hits.Load()
}
