package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/reference/target"
)

// Bounds of the shim (the reference target's).
const (
	downstreamTimeout = target.DefaultDownstreamTimeout
	maxExcerpt        = target.MaxExcerpt
)

// Claims are a verified token's claims, as the library decoded them.
type Claims = map[string]any

// Verifier is one library's verification of one token (access or id): the
// signature, iss, aud and whatever else the library checks as configured.
type Verifier interface {
	Verify(ctx context.Context, token string) (Claims, error)
}

// Tenant is the App ID tenant the target serves: its oauthServerUrl (the
// tokens' iss and the discovery base), JWKS and the audience (the app id).
type Tenant struct {
	Issuer, JWKSURL, Audience string
}

// TenantFromConfig is the tenant of the contract's configuration at fakeaz:
// oauthServerUrl = {serverUrl}/oauth/v4/{appId}; APPID_OAUTH_SERVER_URL overrides.
func TenantFromConfig(cfg target.Config, getenv func(string) string) Tenant {
	iss := strings.TrimRight(getenv("APPID_OAUTH_SERVER_URL"), "/")
	if iss == "" {
		iss = strings.TrimRight(cfg.ServerURL, "/") + "/oauth/v4/" + cfg.AppID
	}
	return Tenant{Issuer: iss, JWKSURL: iss + "/publickeys", Audience: cfg.AppID}
}

type ctxKey struct{}

// server is the contract's routes around a Verifier: the header split and
// refusals (the reference's parser and answers), the security context from
// the verified claims, /propagate and /service-call.
type server struct {
	cfg      target.Config
	v        Verifier
	hardened bool
	tokens   oauth2.TokenSource // nil without client credentials
	client   *http.Client
	mux      *http.ServeMux
}

func newServer(ctx context.Context, cfg target.Config, t Tenant, v Verifier, hardened bool) *server {
	s := &server{cfg: cfg, v: v, hardened: hardened, client: cfg.Downstream.Client(downstreamTimeout), mux: http.NewServeMux()}
	if cfg.ClientID != "" && cfg.Secret != "" {
		cc := clientcredentials.Config{ClientID: cfg.ClientID, ClientSecret: cfg.Secret, TokenURL: t.Issuer + "/token", AuthStyle: oauth2.AuthStyleInHeader}
		hc := &http.Client{Timeout: downstreamTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		s.tokens = cc.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.Handle("GET /v1/apps/{appId}/protected", s.protect(s.protected))
	s.mux.Handle("GET /v1/apps/{appId}/propagate", s.protect(s.propagate))
	s.mux.Handle("GET /v1/apps/{appId}/service-call", s.protect(s.serviceCall))
	return s
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// refuse answers status with the contract's Bearer challenge (code "" for a
// bare one) and a JSON body.
func refuse(w http.ResponseWriter, status int, code, desc string) {
	ch := `Bearer realm="` + reference.Realm + `"`
	if code != "" {
		ch += `, error="` + code + `"`
	}
	w.Header().Set("WWW-Authenticate", ch)
	if code == "" {
		code = "unauthorized"
	}
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// protect runs the library on the access token and the id token, then next
// with the security context; a refusal never reaches next.
func (s *server) protect(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hs := r.Header.Values("Authorization")
		switch {
		case len(hs) > 1:
			refuse(w, http.StatusBadRequest, reference.CodeInvalidRequest, "more than one Authorization header")
			return
		case r.URL.Query().Has("access_token"):
			refuse(w, http.StatusBadRequest, reference.CodeInvalidRequest, "a token in the access_token query parameter as well")
			return
		case len(hs) == 0:
			refuse(w, http.StatusUnauthorized, "", "no Authorization header")
			return
		}
		access, id, err := reference.ParseHeader(hs[0])
		if err != nil {
			var re *reference.Error
			if errors.As(err, &re) {
				refuse(w, re.Status, re.Code, re.Description)
			} else {
				refuse(w, http.StatusBadRequest, reference.CodeInvalidRequest, err.Error())
			}
			return
		}
		ac, ic, err := s.verify(r.Context(), access, id)
		if err != nil {
			refuse(w, http.StatusUnauthorized, reference.CodeInvalidToken, err.Error())
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, securityContext(ac, ic))))
	})
}

func (s *server) verify(ctx context.Context, access, id string) (ac, ic Claims, err error) {
	if ac, err = s.verifyOne(ctx, access); err != nil {
		return nil, nil, fmt.Errorf("access token: %w", err)
	}
	if id == "" {
		return ac, nil, nil
	}
	if ic, err = s.verifyOne(ctx, id); err != nil {
		return nil, nil, fmt.Errorf("id token: %w", err)
	}
	if s.hardened && !paired(ac, ic) {
		return nil, nil, errors.New("the id token belongs to another client")
	}
	return ac, ic, nil
}

func (s *server) verifyOne(ctx context.Context, tok string) (Claims, error) {
	c, err := s.v.Verify(ctx, tok)
	if err != nil {
		return nil, err
	}
	if s.hardened {
		if why := hardenedCheck(tok, c); why != "" {
			return nil, errors.New(why)
		}
	}
	return c, nil
}

// hardenedCheck is what the hardened configurations add after the library
// (docs/certification, "Advice"); the same rules as targets/common/jwtbearer.js:
// no crit, zip or b64 header; exp a NumericDate within 2^53; iat a number when
// present. tok has been verified, so its header segment is authentic.
func hardenedCheck(tok string, c Claims) string {
	h, _, _ := strings.Cut(tok, ".")
	var header map[string]any
	if b, err := base64.RawURLEncoding.DecodeString(h); err != nil || json.Unmarshal(b, &header) != nil {
		return "the header is not a JSON object"
	}
	for _, k := range []string{"crit", "zip", "b64"} {
		if _, ok := header[k]; ok {
			return k + " in a JWS header: not used by the AZ (RFC 7515 §4.1.11, RFC 7797)"
		}
	}
	if exp, ok := number(c["exp"]); !ok || exp > 1<<53 {
		return "exp is missing or not a usable NumericDate"
	}
	if v, present := c["iat"]; present {
		if _, ok := number(v); !ok {
			return "iat is not a NumericDate"
		}
	}
	return ""
}

// number reads a JSON number as decoded by encoding/json (float64 or json.Number).
func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, !math.IsNaN(n) && !math.IsInf(n, 0)
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case int64:
		return float64(n), true
	}
	return 0, false
}

// paired reports whether the id token belongs to the access token's client:
// its sub ends with ":" + the access token's sub.
func paired(ac, ic Claims) bool {
	client, _ := ac["sub"].(string)
	sub, _ := ic["sub"].(string)
	return client != "" && strings.HasSuffix(sub, ":"+client)
}

// securityContext maps App ID claims onto the MCA security context, as the
// ibmcloud-appid target does (targets/README.md).
func securityContext(ac, ic Claims) map[string]any {
	empty := map[string]any{}
	if ic == nil {
		return map[string]any{"imf.sub": ac["sub"], "imf.user": empty, "imf.device": empty, "imf.application": empty}
	}
	sc := map[string]any{"imf.sub": ic["sub"], "imf.user": empty, "imf.device": empty, "imf.application": empty}
	if ids, _ := ic["identities"].([]any); len(ids) > 0 {
		if id0, ok := ids[0].(map[string]any); ok {
			attrs := id0["attributes"]
			sc["imf.user"] = map[string]any{"id": id0["id"], "authBy": id0["provider"], "displayName": ic["name"], "attributes": attrs}
		}
	}
	if oc, ok := ic["oauth_client"].(map[string]any); ok {
		sc["imf.device"] = map[string]any{"id": oc["device_id"], "platform": oc["device_os"], "model": oc["device_model"], "osVersion": oc["device_os_version"]}
		sc["imf.application"] = map[string]any{"id": oc["software_id"], "version": oc["software_version"]}
	}
	return sc
}

func (s *server) protected(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, r.Context().Value(ctxKey{}))
}

func (s *server) propagate(w http.ResponseWriter, r *http.Request) {
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	s.forward(w, r, to, reference.AuthorizationHeaderFromIncomingRequest(r))
}

func (s *server) serviceCall(w http.ResponseWriter, r *http.Request) {
	to, err := s.cfg.Downstream.Check(r.URL.Query().Get("to"))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if s.tokens == nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "service_token", "error_description": "the target has no MCA_CLIENT_ID / MCA_SECRET"})
		return
	}
	t, err := s.tokens.Token()
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "service_token", "error_description": err.Error()})
		return
	}
	s.forward(w, r, to, "Bearer "+t.AccessToken)
}

// forward GETs to with only the given Authorization header and answers with
// the downstream status and a JSON excerpt of its body.
func (s *server) forward(w http.ResponseWriter, r *http.Request, to, authorization string) {
	ctx, cancel := context.WithTimeout(r.Context(), downstreamTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, to, nil)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": err.Error()})
		return
	}
	if authorization != "" {
		req.Header["Authorization"] = []string{authorization}
	}
	resp, err := s.client.Do(req)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"error": "downstream", "error_description": err.Error()})
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	writeJSON(w, resp.StatusCode, map[string]any{"downstream_status": resp.StatusCode, "body": string(body)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// httpTimeout bounds the key and discovery requests of the hardened configurations.
const httpTimeout = 3 * time.Second
