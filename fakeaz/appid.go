package fakeaz

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Token profiles of an App: the "profile" of its JSON form (App.Shape
// is what the Go API sets).
const (
	// ProfileMCA is the default: MCA tokens (aud string, prn, jpk header) and
	// the endpoints under AppsPath.
	ProfileMCA = "mca"
	// ProfileAppID makes the app an IBM Cloud App ID tenant as the npm
	// ibmcloud-appid APIStrategy expects it: tokens with a kid header, tenant,
	// scope and amr, in the shape of the app's "generation"; keys served as a
	// JWKS at {OAuthServerURL}/publickeys.
	ProfileAppID = "appid"
)

// App ID token generations (the "generation" of an App's JSON form,
// ProfileAppID only), after the ibmcloud-appid versions that read them;
// tokenfactory.AppIDShape maps each to its shape.
const (
	// AppIDGenerationV4 is the default: "ver": 4 header, aud an array, iss
	// the oauthServerUrl (tokenfactory.ShapeAppIDV4; ibmcloud-appid 6.0.0 and later).
	AppIDGenerationV4 = tokenfactory.AppIDGenerationV4
	// AppIDGenerationV3 is the v3 token with the well-known issuer: aud a
	// string, iss the oauthServerUrl (the discovery document's issuer), no
	// "ver" (tokenfactory.ShapeAppIDV3; ibmcloud-appid 5.x).
	AppIDGenerationV3 = tokenfactory.AppIDGenerationV3
	// AppIDGenerationV3Host is the v3 token whose iss is the host[:port] of
	// the oauthServerUrl, aud a string, no "ver"
	// (tokenfactory.ShapeAppIDV3Host; ibmcloud-appid up to 4.2.1).
	AppIDGenerationV3Host = tokenfactory.AppIDGenerationV3Host
)

// TokenShape returns the shape of the tokens the AZ mints for the app
// (App.Shape; tokenfactory.ShapeMCA when empty).
func (a App) TokenShape() tokenfactory.Shape {
	if a.Shape == "" {
		return tokenfactory.ShapeMCA
	}
	return a.Shape
}

// IsAppID reports whether the app is an App ID tenant (an App ID shape).
func (a App) IsAppID() bool { return a.Shape.AppID() }

// App ID profile constants.
const (
	// AppIDVersion is the "ver" header of AppIDGenerationV4 tokens and the
	// v4 in the oauthServerUrl.
	AppIDVersion = tokenfactory.AppIDVersion
	// AppIDPath is the prefix of the App ID endpoints:
	// oauthServerUrl = "http://host:port" + AppIDPath + tenantId, where the
	// tenantId is the app id.
	AppIDPath = BasePath + "/oauth/v4/"
	// AppIDDefaultScope is the scope the APIStrategy requires in every access token.
	AppIDDefaultScope = tokenfactory.AppIDDefaultScope
	// AppIDUserScope is the scope claim of the access tokens the App ID
	// profile mints for devices.
	AppIDUserScope = tokenfactory.AppIDUserScope
	// AppIDAnonymousAMR is the amr of tokens without a user.
	AppIDAnonymousAMR = tokenfactory.AppIDAnonymousAMR
	// AppIDClientCredentialsAMR is the amr of service (client_credentials) tokens.
	AppIDClientCredentialsAMR = tokenfactory.AppIDClientCredentialsAMR
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

// AppIDAccessToken mints an App ID access token with f, the factory of a
// ProfileAppID app (Server.Factory), then applies muts. It is f.AccessToken:
// the factory's shape makes the token an App ID one. A factory of another
// shape is an error.
func AppIDAccessToken(f *tokenfactory.Factory, a tokenfactory.Access, muts ...tokenfactory.Mutation) (string, error) {
	if err := appIDFactory(f); err != nil {
		return "", err
	}
	return f.AccessToken(a, muts...)
}

// AppIDIDToken mints an App ID identity token with f, the factory of a
// ProfileAppID app, then applies muts. It is f.IDToken (see AppIDAccessToken).
func AppIDIDToken(f *tokenfactory.Factory, t tokenfactory.ID, muts ...tokenfactory.Mutation) (string, error) {
	if err := appIDFactory(f); err != nil {
		return "", err
	}
	return f.IDToken(t, muts...)
}

func appIDFactory(f *tokenfactory.Factory) error {
	if !f.Shape().AppID() {
		return fmt.Errorf("fakeaz: the factory mints %s tokens: take the factory of an app with \"profile\": %q (Server.Factory), or mint with f.AccessToken and f.IDToken", f.Shape(), ProfileAppID)
	}
	return nil
}

// appIDApp returns the state of an App ID profile app, or writes the 404.
func (s *Server) appIDApp(w http.ResponseWriter, appID string) (App, bool) {
	a, err := s.App(appID)
	if err != nil {
		setOutcome(w, "unknown_app")
		writeErr(w, http.StatusNotFound, "unknown_app", fmt.Sprintf("app id %q is not registered at this AZ", appID))
		return App{}, false
	}
	if !a.IsAppID() {
		setOutcome(w, "not_appid")
		writeErr(w, http.StatusNotFound, "unknown_app", fmt.Sprintf("app %s has the MCA profile: its key is at %s/%s; register it with \"profile\": %q to get App ID endpoints", appID, s.AppURL(appID), EndpointPublicKey, ProfileAppID))
		return App{}, false
	}
	return a, true
}

func (s *Server) handleAppIDPublicKeys(w http.ResponseWriter, _ *http.Request, a App) {
	keys, err := s.JWKS(a.ID)
	if err != nil {
		writeErr(w, http.StatusNotFound, "unknown_app", err.Error())
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
}

// handleAppIDDiscovery serves the discovery document; its issuer is the iss
// of the app's tokens (the oauthServerUrl; its host for AppIDGenerationV3Host).
func (s *Server) handleAppIDDiscovery(w http.ResponseWriter, r *http.Request, a App) {
	f, err := s.factoryAt(r.Context(), a.ID)
	if err != nil {
		writeErr(w, http.StatusNotFound, "unknown_app", err.Error())
		return
	}
	base := oauthServerURL(s.serverURL(r.Context()), a.ID)
	writeJSON(w, http.StatusOK, discovery(f.Issuer(), map[string]any{
		"authorization_endpoint":                base + "/authorization",
		"token_endpoint":                        base + "/" + AppIDToken,
		"jwks_uri":                              base + "/" + AppIDPublicKeys,
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		"scopes_supported":                      strings.Fields(AppIDUserScope),
	}))
}

// handleAppIDToken serves the client_credentials grant. The grant type comes
// as a form or, as the ibmcloud-appid SDK sends it, as a JSON object.
func (s *Server) handleAppIDToken(w http.ResponseWriter, r *http.Request, a App) {
	if s.appIDAuthorizationCode(w, r) { // the web flow (web.go)
		return
	}
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
	at, err := f.ServiceToken(tokenfactory.Access{AppID: a.ID, ClientID: id})
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	_, ttl := s.lifetimes()
	setOutcome(w, "service_token")
	writeJSON(w, http.StatusOK, map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": int64(ttl.Seconds()), "scope": AppIDDefaultScope})
}

// appFields is App without its methods (no MarshalJSON recursion).
type appFields App

// appWire is the JSON form of an App: its fields, with the shape written as
// "profile" and "generation".
type appWire struct {
	*appFields
	Profile    string `json:"profile,omitempty"`
	Generation string `json:"generation,omitempty"`
}

// MarshalJSON writes the app with its shape as "profile": "appid" and
// "generation" (App ID shapes other than the default v4); an MCA app has
// neither.
func (a App) MarshalJSON() ([]byte, error) {
	w := appWire{appFields: (*appFields)(&a)}
	if a.IsAppID() {
		w.Profile = ProfileAppID
		if g := a.Shape.Generation(); g != AppIDGenerationV4 {
			w.Generation = g
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads the JSON form MarshalJSON writes, rejecting unknown
// fields: "profile" "mca" (the default, also absent) or "appid", and for
// "appid" a "generation" (tokenfactory.AppIDShape). A bad profile or
// generation is an error wrapping ErrInvalidApp.
func (a *App) UnmarshalJSON(b []byte) error {
	var f appFields
	w := appWire{appFields: &f}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&w); err != nil {
		return err
	}
	switch w.Profile {
	case "", ProfileMCA:
		if w.Generation != "" {
			return fmt.Errorf("%w: app %q: generation %q is an App ID token generation: set \"profile\": %q too, or leave generation empty", ErrInvalidApp, f.ID, w.Generation, ProfileAppID)
		}
		f.Shape = ""
	case ProfileAppID:
		sh, err := tokenfactory.AppIDShape(w.Generation)
		if err != nil {
			return fmt.Errorf("%w: app %q: %w", ErrInvalidApp, f.ID, err)
		}
		f.Shape = sh
	default:
		return fmt.Errorf("%w: app %q: profile %q: use %q (App ID style tokens) or empty for MCA", ErrInvalidApp, f.ID, w.Profile, ProfileAppID)
	}
	*a = App(f)
	return nil
}
