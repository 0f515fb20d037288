package kit

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net"
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

// Sink is an HTTP server standing in for a downstream service: it answers
// 200 to everything and records what it received, by path.
type Sink struct {
	srv  listen.Server
	base string
	mu   sync.Mutex
	got  map[string][]SinkRequest
}

// StartSink starts a sink on addr ("127.0.0.1:0" picks a port). public,
// when set, is the host the target reaches this machine at (a sink on
// "0.0.0.0:0" for a target on another host): URL then names it, with the
// port listened on.
func StartSink(addr, public string) (*Sink, error) {
	s := &Sink{got: map[string][]SinkRequest{}}
	if err := s.srv.Start(addr, &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 5 * time.Second}); err != nil {
		return nil, err
	}
	s.base = publicBase(&s.srv, public)
	return s, nil
}

// publicBase is the base URL of srv as a target reaches it.
func publicBase(srv *listen.Server, public string) string {
	if public == "" {
		return srv.URL()
	}
	_, port, _ := net.SplitHostPort(srv.Addr())
	return "http://" + net.JoinHostPort(public, port)
}

func (s *Sink) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.got[r.URL.Path] = append(s.got[r.URL.Path], SinkRequest{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), At: time.Now()})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"sink":"ok"}`))
}

// URL is the sink's base URL, as the target reaches it.
func (s *Sink) URL() string { return s.base }

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

// Attacker is a server that serves an attacker's public key the way a jku
// (JWKS) or x5u (PEM certificate) URL would, and counts fetches. A
// validator must never fetch these URLs; the target must be able to reach
// them all the same, or a validator that does fetch would pass unnoticed.
type Attacker struct {
	Key  *rsa.PrivateKey
	srv  listen.Server
	base string
	mu   sync.Mutex
	n    map[string]int
}

// StartAttacker starts the attacker's server with the attacker's key on
// addr; public is as for StartSink.
func StartAttacker(addr, public string, key *rsa.PrivateKey) (*Attacker, error) {
	a := &Attacker{Key: key, n: map[string]int{}}
	if err := a.srv.Start(addr, &http.Server{Handler: http.HandlerFunc(a.serve), ReadHeaderTimeout: 5 * time.Second}); err != nil {
		return nil, err
	}
	a.base = publicBase(&a.srv, public)
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
func (a *Attacker) URLFor(name string) string { return a.base + "/" + name }

// Fetches returns how often the URL was fetched.
func (a *Attacker) Fetches(u string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.n[strings.TrimPrefix(u, a.base)]
}

// Close stops the attacker's server.
func (a *Attacker) Close() error { return a.srv.Close() }
