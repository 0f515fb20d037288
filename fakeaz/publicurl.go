package fakeaz

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// ErrPublicURL is wrapped when a public URL, or the request headers a serverUrl is derived
// from (WithPublicURLFromRequest), cannot be a serverUrl.
var ErrPublicURL = errors.New("fakeaz: not a usable public URL")

// ParsePublicURL checks a public serverUrl and returns it normalized (no trailing slash): an
// absolute http or https URL with a host and no user info, query or fragment. A URL without a
// path gets BasePath ("http://fakeaz.bench.svc:9080" is
// "http://fakeaz.bench.svc:9080/imf-authserver"); any other path must end with BasePath (a
// reverse proxy may add a prefix before it).
func ParsePublicURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("%w: %q: %w", ErrPublicURL, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("%w: %q: want an absolute http or https URL, e.g. http://fakeaz.example:9080%s", ErrPublicURL, raw, BasePath)
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return "", fmt.Errorf("%w: %q: a serverUrl has no user info, query or fragment", ErrPublicURL, raw)
	}
	if _, _, ok := hostPort(u.Host); !ok {
		return "", fmt.Errorf("%w: %q: %q is not a host name or IP address with an optional port", ErrPublicURL, raw, u.Host)
	}
	p := strings.TrimRight(u.Path, "/")
	switch {
	case p == "":
		p = BasePath
	case !strings.HasSuffix(p, BasePath):
		return "", fmt.Errorf("%w: %q: the path must be empty or end with %s (fakeaz serves its endpoints there)", ErrPublicURL, raw, BasePath)
	}
	return u.Scheme + "://" + u.Host + p, nil
}

// WithPublicURL sets the serverUrl clients use to reach the server (a Service name, an ingress,
// a mapped port), e.g. "http://fakeaz.bench.svc:9080/imf-authserver": the iss of every token,
// the URLs of the discovery documents and App ID oauthServerUrl. Default: the URL of the
// listen address (Start). A URL ParsePublicURL refuses is reported by Err and Start.
func WithPublicURL(u string) Option {
	return func(s *Server) {
		p, err := ParsePublicURL(u)
		if err != nil {
			s.initErr = errors.Join(s.initErr, fmt.Errorf("WithPublicURL: %w", err))
			return
		}
		s.publicURL, s.fromRequest = p, false
		s.url = p
	}
}

// WithServerURL sets the serverUrl, as WithPublicURL; with a plain http.Handler (e.g. under
// httptest.NewServer) pass the test server's URL (+ BasePath).
//
// Deprecated: use WithPublicURL.
func WithServerURL(u string) Option { return WithPublicURL(u) }

// WithPublicURLFromRequest derives the serverUrl of each request from the request itself, the
// way mock-oauth2-server does: the RFC 7239 Forwarded header (proto=, host=), else
// X-Forwarded-Proto and X-Forwarded-Host, else the Host header; X-Forwarded-Port, when present,
// replaces the port. A fakeaz in a container behind a mapped port then issues tokens with the
// iss its clients used, with no configuration. Tokens minted in a request (token endpoint,
// admin mint) carry that request's URL; URL, Factory and AppURL keep the configured or
// listen-derived one. A request whose headers do not make a URL (a scheme other than http or
// https, a host that is not a host name or IP address, a bad port) is answered 400. Requests on
// a separate admin listener (WithAdminListen) use URL.
//
// Clients choose these headers: use it only where any client may choose the iss.
func WithPublicURLFromRequest() Option {
	return func(s *Server) { s.fromRequest, s.publicURL = true, "" }
}

type serverURLKey struct{}

// serverURL is the serverUrl of the request ctx belongs to: the one derived from it
// (WithPublicURLFromRequest), else URL().
func (s *Server) serverURL(ctx context.Context) string {
	if u, ok := ctx.Value(serverURLKey{}).(string); ok {
		return u
	}
	return s.URL()
}

// origin is scheme://host[:port] of a serverUrl (the serverUrl without BasePath).
func origin(serverURL string) string { return strings.TrimSuffix(serverURL, BasePath) }

// requestServerURL derives a serverUrl from r's headers (see WithPublicURLFromRequest). An
// empty Host with no forwarding headers returns "" and no error: the caller falls back.
func requestServerURL(r *http.Request) (string, error) {
	var proto, host string
	if f := r.Header.Get("Forwarded"); f != "" {
		params, err := parseForwarded(f)
		if err != nil {
			return "", fmt.Errorf("%w: Forwarded header %q: %w", ErrPublicURL, f, err)
		}
		proto, host = params["proto"], params["host"]
	}
	if proto == "" {
		proto = firstValue(r.Header.Get("X-Forwarded-Proto"))
	}
	if host == "" {
		host = firstValue(r.Header.Get("X-Forwarded-Host"))
	}
	if proto == "" {
		proto = "http"
		if r.TLS != nil {
			proto = "https"
		}
	}
	proto = strings.ToLower(proto)
	if proto != "http" && proto != "https" {
		return "", fmt.Errorf("%w: forwarded scheme %q: want http or https", ErrPublicURL, proto)
	}
	if host == "" {
		host = r.Host
	}
	if host == "" {
		return "", nil
	}
	name, port, ok := hostPort(host)
	if !ok {
		return "", fmt.Errorf("%w: host %q (Forwarded, X-Forwarded-Host or Host header) is not a host name or IP address with an optional port", ErrPublicURL, host)
	}
	if p := r.Header.Get("X-Forwarded-Port"); p != "" {
		p = firstValue(p)
		if !validPort(p) {
			return "", fmt.Errorf("%w: X-Forwarded-Port %q is not a port number (1 to 65535)", ErrPublicURL, p)
		}
		port = p
	}
	if proto == "http" && port == "80" || proto == "https" && port == "443" {
		port = ""
	}
	if port != "" {
		host = net.JoinHostPort(name, port)
	} else if strings.Contains(name, ":") {
		host = "[" + name + "]"
	} else {
		host = name
	}
	return proto + "://" + host + BasePath, nil
}

// firstValue is the first of comma-separated header values (the client-most proxy), trimmed.
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

// hostPort splits "name", "name:port", "[v6]" or "[v6]:port" and reports whether name is a
// host name (letters, digits, '-', '_', '.') or an IP address and port, if any, a port number.
func hostPort(h string) (name, port string, ok bool) {
	if h == "" || len(h) > 300 {
		return "", "", false
	}
	name = h
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", "", false
		}
		v6, rest := h[1:end], h[end+1:]
		if ip := net.ParseIP(v6); ip == nil || ip.To4() != nil {
			return "", "", false
		}
		if rest == "" {
			return v6, "", true
		}
		if !strings.HasPrefix(rest, ":") || !validPort(rest[1:]) {
			return "", "", false
		}
		return v6, rest[1:], true
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		name, port = h[:i], h[i+1:]
		if !validPort(port) {
			return "", "", false
		}
	}
	if name == "" || len(name) > 253 {
		return "", "", false
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return "", "", false
		}
	}
	return name, port, true
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == p
}

// parseForwarded returns the parameters of the first element of an RFC 7239 Forwarded header
// (names lower-cased, quoted values unquoted).
func parseForwarded(v string) (map[string]string, error) {
	out := map[string]string{}
	i := 0
	for i < len(v) {
		for i < len(v) && (v[i] == ' ' || v[i] == '\t' || v[i] == ';') {
			i++
		}
		if i >= len(v) || v[i] == ',' {
			break
		}
		eq := strings.IndexByte(v[i:], '=')
		if eq <= 0 {
			return nil, errors.New("want name=value pairs")
		}
		name := strings.ToLower(strings.TrimSpace(v[i : i+eq]))
		i += eq + 1
		var val string
		if i < len(v) && v[i] == '"' {
			var b strings.Builder
			i++
			for ; i < len(v) && v[i] != '"'; i++ {
				if v[i] == '\\' && i+1 < len(v) {
					i++
				}
				b.WriteByte(v[i])
			}
			if i >= len(v) {
				return nil, errors.New("unterminated quoted value")
			}
			i++
			val = b.String()
		} else {
			j := i
			for j < len(v) && v[j] != ';' && v[j] != ',' {
				j++
			}
			val = strings.TrimSpace(v[i:j])
			i = j
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("parameter %q repeated", name)
		}
		out[name] = val
	}
	return out, nil
}
