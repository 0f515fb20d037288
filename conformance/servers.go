package conformance

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// SinkRequest is one request the sink received.
type SinkRequest struct {
	Method string      `json:"method"`
	Path   string      `json:"path"`
	Header http.Header `json:"header"`
	At     time.Time   `json:"at"`
}

// Sink is a loopback HTTP server standing in for a downstream service: it
// answers 200 to everything and records what it received, by path.
type Sink struct {
	srv listen.Server
	mu  sync.Mutex
	got map[string][]SinkRequest
}

// StartSink starts a sink on addr ("127.0.0.1:0" picks a port).
func StartSink(addr string) (*Sink, error) {
	s := &Sink{got: map[string][]SinkRequest{}}
	if err := s.srv.Start(addr, &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got[r.URL.Path] = append(s.got[r.URL.Path], SinkRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), At: time.Now()})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"sink":"ok"}`))
}

// URL is the sink's base URL.
func (s *Sink) URL() string { return s.srv.URL() }

// Received returns the requests received at the path of u.
func (s *Sink) Received(u string) []SinkRequest {
	path := strings.TrimPrefix(u, s.URL())
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SinkRequest(nil), s.got[path]...)
}

// Close stops the sink.
func (s *Sink) Close() error { return s.srv.Close() }

// Attacker is a loopback server that serves an attacker's public key the
// way a jku (JWKS) or x5u (PEM certificate) URL would, and counts fetches.
// A validator must never fetch these URLs.
type Attacker struct {
	Key *rsa.PrivateKey
	srv listen.Server
	mu  sync.Mutex
	n   map[string]int
}

// StartAttacker starts the attacker's server with the attacker's key.
func StartAttacker(addr string, key *rsa.PrivateKey) (*Attacker, error) {
	a := &Attacker{Key: key, n: map[string]int{}}
	if err := a.srv.Start(addr, &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 5 * time.Second}); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *Attacker) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.n[r.URL.Path]++
	a.mu.Unlock()
	if strings.HasSuffix(r.URL.Path, ".pem") {
		der, _ := x509.MarshalPKIXPublicKey(&a.Key.PublicKey)
		_ = pem.Encode(w, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return
	}
	k := tokenfactory.NewPublicKeyJSON(&a.Key.PublicKey)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"keys": []any{map[string]string{"kty": "RSA", "n": k.N, "e": k.E, "alg": "RS256", "use": "sig"}}})
}

// URLFor returns an attacker URL unique to name (a JWKS, or a PEM if name ends in .pem).
func (a *Attacker) URLFor(name string) string { return a.srv.URL() + "/" + name }

// Fetches returns how often the URL was fetched.
func (a *Attacker) Fetches(u string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[strings.TrimPrefix(u, a.srv.URL())]
}

// Close stops the attacker's server.
func (a *Attacker) Close() error { return a.srv.Close() }
