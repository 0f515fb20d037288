// Package sim holds the plumbing the identity-provider simulators share:
// a listener, fault injection, JSON helpers, opaque token
// generation and the client side of a provider call.
package sim

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/internal/httpjson"
	"github.com/mcaspec/mcaspec/internal/listen"
)

// MaxBody bounds request and response bodies read by simulators and clients.
const MaxBody = 1 << 20

// Listener runs a handler on an address (default 127.0.0.1:0). The zero value is ready.
type Listener struct{ s listen.Server }

// Done is closed when Close is called; hanging handlers watch it.
func (l *Listener) Done() <-chan struct{} { return l.s.Done() }

// CheckListen resolves addr ("" means 127.0.0.1:0; "localhost" means
// 127.0.0.1) and refuses anything that is not host:port.
func CheckListen(addr string) (string, error) { return listen.Addr(addr) }

// Start listens on addr and serves h in the background.
func (l *Listener) Start(addr string, h http.Handler) error {
	return l.s.Start(addr, &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second})
}

// URL is the base URL after Start ("" before).
func (l *Listener) URL() string { return l.s.URL() }

// Close releases hanging handlers and stops the server, if started. It may
// be called more than once.
func (l *Listener) Close() error { return l.s.Close() }

// Faults holds the current fault of a simulator.
type Faults struct {
	mu sync.Mutex
	f  idp.Fault
}

// Set replaces the current fault.
func (f *Faults) Set(v idp.Fault) {
	f.mu.Lock()
	f.f = v
	f.mu.Unlock()
}

// Get returns the current fault.
func (f *Faults) Get() idp.Fault {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.f
}

// Apply injects the current fault into a provider request, counting it in
// n first. It returns true when it has answered (or abandoned) the request.
func (f *Faults) Apply(w http.ResponseWriter, r *http.Request, done <-chan struct{}, n *atomic.Int64) bool {
	cur := f.Get()
	if cur.Hang || cur.Status != 0 {
		n.Add(1)
	}
	if cur.Hang {
		select {
		case <-r.Context().Done():
		case <-done:
		}
		return true
	}
	if cur.Status != 0 {
		WriteJSON(w, cur.Status, map[string]string{"error": "injected_fault", "error_description": fmt.Sprintf("fault injected by the simulator: status %d", cur.Status)})
		return true
	}
	return false
}

// getFault answers the current fault (GET /admin/fault).
func (f *Faults) getFault(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, f.Get())
}

// setFault replaces the current fault with the JSON body (PUT or POST
// /admin/fault).
func (f *Faults) setFault(w http.ResponseWriter, r *http.Request) {
	var v idp.Fault
	if !DecodeJSON(w, r, &v) {
		return
	}
	if v.Status != 0 && (v.Status < 100 || v.Status > 599) {
		BadRequest(w, fmt.Sprintf("fault status %d is not an HTTP status", v.Status))
		return
	}
	f.Set(v)
	WriteJSON(w, http.StatusOK, v)
}

// WriteJSON writes v as a JSON body with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, status, v)
}

// BadRequest writes 400 {"error": "invalid_request", "error_description": msg}.
func BadRequest(w http.ResponseWriter, msg string) {
	WriteJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": msg})
}

// ServerError writes 500 {"error": "server_error", "error_description": err}.
func ServerError(w http.ResponseWriter, err error) {
	WriteJSON(w, http.StatusInternalServerError, map[string]string{"error": "server_error", "error_description": err.Error()})
}

// NotFound writes 404 with a JSON error.
func NotFound(w http.ResponseWriter, msg string) {
	WriteJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": msg})
}

// MethodNotAllowed writes 405 with an Allow header and a JSON error.
func MethodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	WriteJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method_not_allowed", "error_description": "allowed methods: " + allow})
}

// DecodeJSON reads a JSON object body into v (at most MaxBody bytes, no
// trailing data). On failure it writes a 400 and returns false.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	if err != nil {
		BadRequest(w, fmt.Sprintf("cannot read the request body: %v", err))
		return false
	}
	if err := Unmarshal(body, v); err != nil {
		BadRequest(w, "request body: "+err.Error())
		return false
	}
	return true
}

// Unmarshal decodes one JSON object from body into v, refusing empty
// bodies, non-objects and trailing data.
func Unmarshal(body []byte, v any) error {
	trim := strings.TrimSpace(string(body))
	if trim == "" {
		return errors.New("empty; send a JSON object")
	}
	if !strings.HasPrefix(trim, "{") {
		return errors.New("not a JSON object")
	}
	dec := json.NewDecoder(strings.NewReader(trim))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("invalid JSON: %w", err)
	}
	if dec.More() {
		return errors.New("invalid JSON: trailing data after the object")
	}
	return nil
}

// NewToken returns an opaque token: 32 bytes of r as unpadded base64url.
func NewToken(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("random source: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Call sends req with hc (nil: http.DefaultClient) under ctx, bounded by
// idp.DefaultTimeout when ctx has no deadline, and returns the status and
// body (at most MaxBody bytes). Transport failures, context ends and 5xx
// statuses come back as errors wrapping idp.ErrUnavailable; what names the
// call (e.g. "facebook debug_token") prefixes every message.
func Call(ctx context.Context, hc *http.Client, req *http.Request, what string) (int, []byte, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, idp.DefaultTimeout)
		defer cancel()
	}
	resp, err := hc.Do(req.WithContext(ctx))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, nil, fmt.Errorf("%w: %s: no answer from %s before the deadline: %w", idp.ErrUnavailable, what, req.URL.Host, ctxErr)
		}
		return 0, nil, fmt.Errorf("%w: %s: %w", idp.ErrUnavailable, what, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s: reading the answer: %w", idp.ErrUnavailable, what, err)
	}
	if resp.StatusCode >= 500 {
		return resp.StatusCode, body, fmt.Errorf("%w: %s: HTTP %d: %s", idp.ErrUnavailable, what, resp.StatusCode, Excerpt(body))
	}
	return resp.StatusCode, body, nil
}

// Excerpt returns what an error message should quote of a body: the
// error_description of a JSON error body, else at most 200 bytes of it.
func Excerpt(body []byte) string {
	var e struct {
		Error       any    `json:"error"`
		Description string `json:"error_description"`
	}
	if json.Unmarshal(body, &e) == nil && e.Description != "" {
		if code, ok := e.Error.(string); ok && code != "" {
			return code + ": " + e.Description
		}
		return e.Description
	}
	return excerpt.String(strings.TrimSpace(string(body)), 200)
}
