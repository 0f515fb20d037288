package fakeaz

import (
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// TokenResponse is the body of a successful token request.
type TokenResponse struct {
	AccessToken string `json:"access_token"`
	IDToken     string `json:"id_token,omitempty"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, a *appState) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a form (application/x-www-form-urlencoded, at most 64 KiB): "+err.Error())
		return
	}
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "authorization_code":
		s.tokenByCode(w, r, a)
	case "client_credentials":
		s.tokenByClientCredentials(w, r, a)
	case "":
		writeErr(w, http.StatusBadRequest, "invalid_request", "grant_type is missing: use authorization_code or client_credentials")
	default:
		writeErr(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q is not supported: use authorization_code or client_credentials", gt))
	}
}

func (s *Server) tokenByCode(w http.ResponseWriter, r *http.Request, a *appState) {
	code := r.PostForm.Get("code")
	if code == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "code is missing")
		return
	}
	c, ok := s.clientFor(w, a, r.PostForm.Get("client_id"), http.StatusBadRequest)
	if !ok {
		return
	}
	if problem := checkCodeProof(r.Header.Get("X-WL-Authenticate"), code, c); problem != "" {
		writeErr(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	entry, key, problem := s.redeemCode(a, c, code, r.PostForm.Get("redirect_uri"))
	if problem != "" {
		writeErr(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	f, err := s.factoryFor(r.Context(), key)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	_, ttl := s.lifetimes()
	acc := tokenfactory.Access{AppID: c.AppID, ClientID: c.ClientID}
	if entry.realm != "" {
		acc.Scope = map[string]tokenfactory.Scope{entry.realm: {Exp: f.Now().Add(ttl).Unix(), Mandatory: true}}
	}
	at, err := f.AccessToken(acc)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	it, err := f.IDToken(tokenfactory.ID{
		AppID: c.AppID, ClientID: c.ClientID, User: entry.user,
		Device:      tokenfactory.Device{ID: c.DeviceID, Platform: DevicePlatform(c.Environment), Model: c.DeviceModel, OSVersion: c.DeviceOSVersion},
		Application: tokenfactory.Application{ID: c.ApplicationID, Version: c.ApplicationVersion},
	})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	setOutcome(w, "tokens")
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: at, IDToken: it, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
}

// checkCodeProof checks the X-WL-Authenticate header of a code redemption:
// a JWS over {"code": code} signed with the client's registered device key.
// It returns what is wrong, or "".
func checkCodeProof(proof, code string, c *Client) string {
	if proof == "" {
		return `header X-WL-Authenticate is missing: send a JWS over {"code": "<code>"} signed with the device key`
	}
	j, err := parseJWS(proof)
	if err == nil {
		err = j.verify(c.PublicKey)
	}
	if err != nil {
		return "X-WL-Authenticate does not prove possession of the registered device key: " + err.Error()
	}
	var p struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(j.payload, &p); err != nil || p.Code != code {
		return `X-WL-Authenticate payload must be {"code": "<the code in the form>"}`
	}
	return ""
}

// redeemCode marks the code used if client c may redeem it now with
// redirect ("" when the form has none), and returns its entry and the app's
// current signing key, or what is wrong.
func (s *Server) redeemCode(a *appState, c *Client, code, redirect string) (codeEntry, *rsa.PrivateKey, string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.codes[code]
	var problem string
	switch {
	case e == nil || e.appID != c.AppID:
		problem = "the code is unknown for this app"
	case e.clientID != c.ClientID:
		problem = "the code was issued to another client"
	case e.used:
		problem = "the code has already been used (codes are single-use): run the authorization step again"
	case !now.Before(e.expires):
		problem = fmt.Sprintf("the code expired at %s: run the authorization step again", e.expires.UTC().Format("15:04:05Z"))
	case redirect != "" && redirect != e.redirectURI:
		problem = fmt.Sprintf("redirect_uri %q differs from the one of the authorization request", redirect)
	default:
		e.used = true
	}
	var entry codeEntry
	if e != nil {
		entry = *e
	}
	return entry, a.cur.priv, problem
}

func (s *Server) tokenByClientCredentials(w http.ResponseWriter, r *http.Request, a *appState) {
	id, secret, ok := r.BasicAuth()
	if !ok {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeaz"`)
		writeErr(w, http.StatusUnauthorized, "invalid_client", "client_credentials needs Authorization: Basic base64(clientId:secret)")
		return
	}
	s.mu.Lock()
	var found bool
	for _, sc := range a.app.ServiceClients {
		if sc.ClientID == id && subtle.ConstantTimeCompare([]byte(sc.Secret), []byte(secret)) == 1 {
			found = true
		}
	}
	appID, key := a.app.ID, a.cur.priv
	s.mu.Unlock()
	if !found {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeaz"`)
		writeErr(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("unknown service client %q or wrong secret for app %s", id, appID))
		return
	}
	f, err := s.factoryFor(r.Context(), key)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	at, err := f.AccessToken(tokenfactory.Access{AppID: appID, ClientID: id})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	_, ttl := s.lifetimes()
	setOutcome(w, "service_token")
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
}

// JWK is one key of a JWKS.
type JWK struct {
	Kty string `json:"kty"`
	N   string `json:"n"`
	E   string `json:"e"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

func jwkOf(k *signingKey) JWK {
	p := tokenfactory.NewPublicKeyJSON(&k.priv.PublicKey)
	return JWK{Kty: p.Kty, N: p.N, E: p.E, Kid: k.kid, Alg: tokenfactory.RS256, Use: "sig"}
}

// JWKS returns the app's live keys: the current one first, then superseded
// keys still in their overlap window.
func (s *Server) JWKS(appID string) (out []JWK, err error) {
	err = s.withApp(appID, func(st *appState) error {
		for _, k := range s.liveKeysLocked(st) {
			out = append(out, jwkOf(k))
		}
		return nil
	})
	return out, err
}

func (s *Server) handlePublicKey(w http.ResponseWriter, r *http.Request, a *appState) {
	s.mu.Lock()
	var pub *rsa.PublicKey = &a.cur.priv.PublicKey
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, tokenfactory.NewPublicKeyJSON(pub))
}

func (s *Server) handleJWKS(w http.ResponseWriter, r *http.Request, a *appState) {
	keys, err := s.JWKS(a.app.ID)
	if err != nil {
		writeErr(w, http.StatusNotFound, "unknown_app", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (s *Server) handleDiscovery(w http.ResponseWriter, r *http.Request, a *appState) {
	su := s.serverURL(r.Context())
	base := s.appURL(su, a.app.ID)
	writeJSON(w, http.StatusOK, discovery(su, map[string]any{
		"authorization_endpoint":                base + "/" + EndpointAuthorization,
		"token_endpoint":                        base + "/" + EndpointToken,
		"jwks_uri":                              base + "/" + EndpointJWKS,
		"registration_endpoint":                 base + "/" + EndpointRegister,
		"end_session_endpoint":                  base + "/" + EndpointLogout,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "private_key_jwt"},
	}))
}

// discovery is an OpenID Provider Metadata document (OpenID Connect
// Discovery 1.0 §3) of issuer: what both flavours of the AZ support (the
// code and client-credentials grants, public subjects, RS256 id tokens)
// plus fields (the endpoints, the client authentication methods...).
func discovery(issuer string, fields map[string]any) map[string]any {
	doc := map[string]any{
		"issuer":                                issuer,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{tokenfactory.RS256},
	}
	maps.Copy(doc, fields)
	return doc
}
