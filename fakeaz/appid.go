package fakeaz

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Token profiles of an App (App.Profile).
const (
	// ProfileMCA is the default: MCA tokens (aud string, prn, jpk header) and
	// the endpoints under AppsPath.
	ProfileMCA = "mca"
	// ProfileAppID makes the app an IBM Cloud App ID (v4) tenant as the npm
	// ibmcloud-appid APIStrategy expects it: tokens with a kid header and
	// "ver": 4, aud an array, tenant, scope; keys served as a JWKS at
	// {OAuthServerURL}/publickeys.
	ProfileAppID = "appid"
)

// App ID profile constants.
const (
	// AppIDVersion is the App ID token version: the "ver" header of its
	// tokens and the v4 in the oauthServerUrl.
	AppIDVersion = 4
	// AppIDPath is the prefix of the App ID endpoints:
	// oauthServerUrl = "http://host:port" + AppIDPath + tenantId, where the
	// tenantId is the app id.
	AppIDPath = BasePath + "/oauth/v4/"
	// AppIDDefaultScope is the scope the APIStrategy requires in every access token.
	AppIDDefaultScope = "appid_default"
	// AppIDUserScope is the scope claim of the access tokens the App ID
	// profile mints for devices.
	AppIDUserScope = "openid appid_default appid_readprofile appid_readuserattr appid_writeuserattr appid_authenticated"
	// AppIDAnonymousAMR is the amr of tokens without a user.
	AppIDAnonymousAMR = "appid_anon"
	// AppIDClientCredentialsAMR is the amr of service (client_credentials) tokens.
	AppIDClientCredentialsAMR = "appid_client_credentials"
)

// App ID endpoint suffixes under the oauthServerUrl. For faults and stats
// they count as the MCA endpoints that play the same part: publickeys as
// EndpointPublicKey, token as EndpointToken, the discovery document as
// EndpointDiscovery.
const (
	AppIDPublicKeys = "publickeys"
	AppIDToken      = "token"
	AppIDDiscovery  = ".well-known/openid-configuration"
)

// OAuthServerURL returns the App ID oauthServerUrl of an app:
// {serverUrl}/oauth/v4/{appId}, e.g.
// http://127.0.0.1:9080/imf-authserver/oauth/v4/0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11.
// It is the iss of the app's App ID tokens.
func (s *Server) OAuthServerURL(appID string) string { return oauthServerURL(s.URL(), appID) }

func oauthServerURL(serverURL, appID string) string { return origin(serverURL) + AppIDPath + appID }

func (s *Server) appIDFactory(ctx context.Context, appID string, key *rsa.PrivateKey, kid string) (*tokenfactory.Factory, error) {
	_, tokenTTL := s.lifetimes()
	return tokenfactory.New(key,
		tokenfactory.WithIssuer(oauthServerURL(s.serverURL(ctx), appID)),
		tokenfactory.WithKeyID(kid),
		tokenfactory.WithJPK(false),
		tokenfactory.WithClock(s.tokenNow),
		tokenfactory.WithLifetime(tokenTTL))
}

// AppIDHeader is the mutation that gives a token the header fields App ID
// tokens carry besides alg and kid: "typ": "JWT" and "ver": 4 (the
// ibmcloud-appid SDK reads the token version from the header).
// AppIDAccessToken and AppIDIDToken apply it first.
func AppIDHeader() tokenfactory.Mutation {
	return tokenfactory.Mutation{
		Name: "appid-header",
		Doc:  `adds the App ID header fields "typ": "JWT" and "ver": 4`,
		Before: func(d *tokenfactory.Draft, _ tokenfactory.Env) error {
			if d.Header == nil {
				d.Header = map[string]any{}
			}
			d.Header["typ"] = "JWT"
			d.Header["ver"] = AppIDVersion
			return nil
		},
	}
}

// AppIDAccessClaims returns the claims of an App ID access token for a
// device client: iss, iat and exp as f mints them, aud = [a.AppID],
// sub = a.ClientID, tenant = a.AppID, scope = AppIDUserScope and
// amr = [AppIDAnonymousAMR]. a.Scope (the MCA imf.scope) is ignored.
func AppIDAccessClaims(f *tokenfactory.Factory, a tokenfactory.Access, now time.Time) map[string]any {
	base := f.AccessClaims(tokenfactory.Access{AppID: a.AppID, ClientID: a.ClientID}, now)
	return map[string]any{
		"iss":    base["iss"],
		"iat":    base["iat"],
		"exp":    base["exp"],
		"aud":    []any{a.AppID},
		"sub":    a.ClientID,
		"tenant": a.AppID,
		"scope":  AppIDUserScope,
		"amr":    []any{AppIDAnonymousAMR},
	}
}

// AppIDIDClaims returns the claims of an App ID identity token: iss, iat and
// exp as f mints them, aud = [t.AppID], tenant = t.AppID, sub as the MCA id
// token's (tokenfactory.SubjectFor), amr = [user's authBy] (anonymous:
// [AppIDAnonymousAMR]), with a user also name = displayName and
// identities = [{"provider": authBy, "id": user id[, "attributes"]}], and
// oauth_client describing the device and application (App ID's
// mobile-client fields software_id, software_version, device_*).
func AppIDIDClaims(f *tokenfactory.Factory, t tokenfactory.ID, now time.Time) map[string]any {
	base := f.IDClaims(t, now)
	c := map[string]any{
		"iss":    base["iss"],
		"iat":    base["iat"],
		"exp":    base["exp"],
		"aud":    []any{t.AppID},
		"tenant": t.AppID,
		"sub":    base["sub"],
		"amr":    []any{AppIDAnonymousAMR},
		"oauth_client": map[string]any{
			"type":              "mobileapp",
			"software_id":       t.Application.ID,
			"software_version":  t.Application.Version,
			"device_id":         t.Device.ID,
			"device_model":      t.Device.Model,
			"device_os":         t.Device.Platform,
			"device_os_version": t.Device.OSVersion,
		},
	}
	if u := t.User; u != nil {
		c["amr"] = []any{u.AuthBy}
		c["name"] = u.DisplayName
		id := map[string]any{"provider": u.AuthBy, "id": u.ID}
		if u.Attributes != nil {
			id["attributes"] = u.Attributes
		}
		c["identities"] = []any{id}
	}
	return c
}

// AppIDAccessToken mints an App ID access token (AppIDAccessClaims, header
// AppIDHeader) with f, normally Server.Factory of a ProfileAppID app, then
// applies muts.
func AppIDAccessToken(f *tokenfactory.Factory, a tokenfactory.Access, muts ...tokenfactory.Mutation) (string, error) {
	now := f.Now()
	return f.Sign(AppIDAccessClaims(f, a, now), now, append([]tokenfactory.Mutation{AppIDHeader()}, muts...)...)
}

// AppIDIDToken mints an App ID identity token (AppIDIDClaims, header
// AppIDHeader) with f, then applies muts.
func AppIDIDToken(f *tokenfactory.Factory, t tokenfactory.ID, muts ...tokenfactory.Mutation) (string, error) {
	now := f.Now()
	return f.Sign(AppIDIDClaims(f, t, now), now, append([]tokenfactory.Mutation{AppIDHeader()}, muts...)...)
}

// appIDServiceToken mints the access token of the App ID token endpoint's
// client_credentials grant: aud = [clientId, appId] (App ID puts the client
// there; the app id keeps the token acceptable to the app's own resources),
// sub = azp = clientId, scope = AppIDDefaultScope.
func appIDServiceToken(f *tokenfactory.Factory, appID, clientID string) (string, error) {
	now := f.Now()
	c := AppIDAccessClaims(f, tokenfactory.Access{AppID: appID, ClientID: clientID}, now)
	c["aud"] = []any{clientID, appID}
	c["azp"] = clientID
	c["scope"] = AppIDDefaultScope
	c["amr"] = []any{AppIDClientCredentialsAMR}
	return f.Sign(c, now, AppIDHeader())
}

// appIDApp returns the state of an App ID profile app, or writes the 404.
func (s *Server) appIDApp(w http.ResponseWriter, appID string) (App, bool) {
	a, err := s.App(appID)
	if err != nil {
		setOutcome(w, "unknown_app")
		writeErr(w, http.StatusNotFound, "unknown_app", fmt.Sprintf("app id %q is not registered at this AZ", appID))
		return App{}, false
	}
	if a.Profile != ProfileAppID {
		setOutcome(w, "not_appid")
		writeErr(w, http.StatusNotFound, "unknown_app", fmt.Sprintf("app %s has the MCA profile: its key is at %s/%s; register it with \"profile\": %q to get App ID endpoints", appID, s.AppURL(appID), EndpointPublicKey, ProfileAppID))
		return App{}, false
	}
	return a, true
}

// serveAppID serves the App ID endpoints under AppIDPath. It returns the app
// id and endpoint name for the request log.
func (s *Server) serveAppID(w *recorder, r *http.Request) (appID, endpoint string) {
	rest := strings.TrimPrefix(r.URL.Path, AppIDPath)
	appID, sub, _ := strings.Cut(rest, "/")
	type route struct {
		endpoint string
		method   string
		h        func(http.ResponseWriter, *http.Request, App)
	}
	routes := map[string]route{
		AppIDPublicKeys: {EndpointPublicKey, http.MethodGet, s.handleAppIDPublicKeys},
		AppIDDiscovery:  {EndpointDiscovery, http.MethodGet, s.handleAppIDDiscovery},
		AppIDToken:      {EndpointToken, http.MethodPost, s.handleAppIDToken},
	}
	rt, ok := routes[sub]
	if !ok {
		w.outcome = "not_found"
		writeErr(w, http.StatusNotFound, "not_found", fmt.Sprintf("no App ID endpoint %q; endpoints are %s{tenantId}/ + %s, %s, %s", sub, AppIDPath, AppIDPublicKeys, AppIDToken, AppIDDiscovery))
		return appID, "-"
	}
	s.stats.count(&s.mu, rt.endpoint, appID)
	if !s.applyFaults(w, r, rt.endpoint, appID) {
		return appID, rt.endpoint
	}
	if r.Method != rt.method && !(rt.method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", rt.method)
		w.outcome = "method_not_allowed"
		writeErr(w, http.StatusMethodNotAllowed, "method_not_allowed", sub+" takes "+rt.method)
		return appID, rt.endpoint
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	a, ok := s.appIDApp(w, appID)
	if !ok {
		return appID, rt.endpoint
	}
	rt.h(w, r, a)
	return appID, rt.endpoint
}

func (s *Server) handleAppIDPublicKeys(w http.ResponseWriter, _ *http.Request, a App) {
	keys, err := s.JWKS(a.ID)
	if err != nil {
		writeErr(w, http.StatusNotFound, "unknown_app", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

func (s *Server) handleAppIDDiscovery(w http.ResponseWriter, r *http.Request, a App) {
	base := oauthServerURL(s.serverURL(r.Context()), a.ID)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                base,
		"authorization_endpoint":                base + "/authorization",
		"token_endpoint":                        base + "/" + AppIDToken,
		"jwks_uri":                              base + "/" + AppIDPublicKeys,
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"client_credentials"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{tokenfactory.RS256},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"scopes_supported":                      strings.Fields(AppIDUserScope),
	})
}

// handleAppIDToken serves the client_credentials grant. The grant type comes
// as a form or, as the ibmcloud-appid SDK sends it, as a JSON object.
func (s *Server) handleAppIDToken(w http.ResponseWriter, r *http.Request, a App) {
	var grant string
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "application/json" {
		var body struct {
			GrantType string `json:"grant_type"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a JSON object or a form (at most 64 KiB): "+err.Error())
			return
		}
		grant = body.GrantType
	} else {
		if err := r.ParseForm(); err != nil {
			writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a form or a JSON object (at most 64 KiB): "+err.Error())
			return
		}
		grant = r.PostForm.Get("grant_type")
	}
	if grant != "client_credentials" {
		writeErr(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q: the App ID profile's token endpoint supports client_credentials only", grant))
		return
	}
	id, secret, ok := r.BasicAuth()
	found := false
	for _, sc := range a.ServiceClients {
		if ok && sc.ClientID == id && subtle.ConstantTimeCompare([]byte(sc.Secret), []byte(secret)) == 1 {
			found = true
		}
	}
	if !found {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeaz"`)
		writeErr(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("client_credentials needs Authorization: Basic base64(clientId:secret) of a service client of app %s", a.ID))
		return
	}
	f, err := s.factoryAt(r.Context(), a.ID)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	at, err := appIDServiceToken(f, a.ID, id)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	_, ttl := s.lifetimes()
	setOutcome(w, "service_token")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(ttl.Seconds()), "scope": AppIDDefaultScope})
}

// serveAppIDAdmin handles the admin routes that differ for App ID profile
// apps (POST /admin/apps/{appId}/tokens mints App ID tokens). It reports
// whether it answered the request.
func (s *Server) serveAppIDAdmin(w http.ResponseWriter, r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	rest, ok := strings.CutPrefix(r.URL.Path, AdminPath+"apps/")
	if !ok {
		return false
	}
	appID, tail, _ := strings.Cut(rest, "/")
	if tail != "tokens" {
		return false
	}
	if a, err := s.App(appID); err != nil || a.Profile != ProfileAppID {
		return false
	}
	var req mintRequest
	if !decodeAdmin(w, r, &req) {
		return true
	}
	if req.ClientID == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "clientId is required")
		return true
	}
	f, err := s.factoryAt(r.Context(), appID)
	if err != nil {
		adminErr(w, err)
		return true
	}
	at, err := AppIDAccessToken(f, tokenfactory.Access{AppID: appID, ClientID: req.ClientID})
	if err != nil {
		adminErr(w, err)
		return true
	}
	it, err := AppIDIDToken(f, tokenfactory.ID{AppID: appID, ClientID: req.ClientID, User: req.User, Device: req.Device, Application: req.Application})
	if err != nil {
		adminErr(w, err)
		return true
	}
	_, ttl := s.lifetimes()
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: at, IDToken: it, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
	return true
}
