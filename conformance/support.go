package conformance

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

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
	srv *http.Server
	url string
	mu  sync.Mutex
	got map[string][]SinkRequest
}

// StartSink starts a sink on addr ("127.0.0.1:0" picks a port).
func StartSink(addr string) (*Sink, error) {
	s := &Sink{got: map[string][]SinkRequest{}}
	ln, err := listenLoopback(addr)
	if err != nil {
		return nil, err
	}
	s.url = "http://" + ln.Addr().String()
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
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
func (s *Sink) URL() string { return s.url }

// Received returns the requests received at the path of u.
func (s *Sink) Received(u string) []SinkRequest {
	path := strings.TrimPrefix(u, s.url)
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]SinkRequest(nil), s.got[path]...)
}

// Close stops the sink.
func (s *Sink) Close() error { return shutdown(s.srv) }

// Attacker is a loopback server that serves an attacker's public key the
// way a jku (JWKS) or x5u (PEM certificate) URL would, and counts fetches.
// A validator must never fetch these URLs.
type Attacker struct {
	Key *rsa.PrivateKey
	srv *http.Server
	url string
	mu  sync.Mutex
	n   map[string]int
}

// StartAttacker starts the attacker's server with a fresh key.
func StartAttacker(addr string, key *rsa.PrivateKey) (*Attacker, error) {
	a := &Attacker{Key: key, n: map[string]int{}}
	ln, err := listenLoopback(addr)
	if err != nil {
		return nil, err
	}
	a.url = "http://" + ln.Addr().String()
	a.srv = &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
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
func (a *Attacker) URLFor(name string) string { return a.url + "/" + name }

// Fetches returns how often the URL was fetched.
func (a *Attacker) Fetches(u string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[strings.TrimPrefix(u, a.url)]
}

// Close stops the attacker's server.
func (a *Attacker) Close() error { return shutdown(a.srv) }

func listenLoopback(addr string) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, errors.New("refusing to listen on non-loopback address " + addr)
	}
	return net.Listen("tcp", addr)
}

func shutdown(s *http.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		return s.Close()
	}
	return nil
}
