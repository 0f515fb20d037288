package fakeaz

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// This file is the web sign-in flow (OAuth 2.0 authorization code, OpenID
// Connect Core 1.0 §3.1) that websites use (the npm MCAWebSiteStrategy,
// App ID's WebAppStrategy): web clients with a secret and registered
// redirect URIs, the authorization endpoint a browser is sent to, the token
// endpoint the website trades the code at (client_secret_basic), and the
// scenario controls that make the AZ misbehave for one web client. The
// endpoints sit on the server's one mux, behind its middleware (counted,
// faulted, body-limited) like every AZ endpoint.

// Web endpoint names (for faults and stats; the suffixes after
// {serverUrl}/authorization/v1/apps/{appId}/).
const (
	EndpointWebAuthorization = "web/authorization"
	EndpointWebToken         = "web/token"
)

// Web flow constants.
const (
	// WebUserCookie is the AZ's sign-in cookie: the user a browser is signed
	// in as at the AZ. The authorization endpoint consents at once for that
	// user (a browser without it gets the web client's DefaultUser).
	WebUserCookie = "fakeaz_user"
	// DefaultWebUser is the user of a browser without WebUserCookie when the
	// web client names no DefaultUser.
	DefaultWebUser = "alice"
	// WebAuthBy is the authBy of web users in id tokens; sub is
	// "<WebAuthBy>:<user>:<web client id>" (see WebSubject).
	WebAuthBy = "webRealm"
)

// ErrInvalidWebClient is wrapped when a web client definition or a web
// scenario is invalid.
var ErrInvalidWebClient = errors.New("fakeaz: invalid web client")

// WebClient is a website registered for the authorization-code flow.
type WebClient struct {
	ClientID string `json:"clientId"`
	Secret   string `json:"secret"`
	// AppID is the app whose key signs the id tokens (aud is this app id).
	AppID string `json:"appId"`
	// RedirectURIs are the callback URLs the authorization endpoint
	// accepts, compared exactly (RFC 9700 §2.1).
	RedirectURIs []string `json:"redirectUris"`
	// DefaultUser is who a browser without WebUserCookie signs in as
	// (default DefaultWebUser).
	DefaultUser string `json:"defaultUser,omitempty"`
}

// WebSubject is the sub of the id tokens issued to web client clientID for user.
func WebSubject(clientID, user string) string {
	return tokenfactory.SubjectFor(clientID, &tokenfactory.User{ID: user, AuthBy: WebAuthBy})
}

var webUserRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate checks a web client definition.
func (c WebClient) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w %q: %s", ErrInvalidWebClient, c.ClientID, fmt.Sprintf(format, args...))
	}
	if c.ClientID == "" || strings.ContainsAny(c.ClientID, ": ") || c.Secret == "" {
		return bad("needs a clientId without ':' or spaces and a non-empty secret")
	}
	if c.AppID == "" {
		return bad("needs the appId of a registered app (its key signs the id tokens)")
	}
	if len(c.RedirectURIs) == 0 {
		return bad("needs at least one redirect URI (the website's callback URL)")
	}
	for _, ru := range c.RedirectURIs {
		u, err := url.Parse(ru)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Fragment != "" {
			return bad("redirect URI %q is not an absolute http(s) URL without a fragment", ru)
		}
	}
	if c.DefaultUser != "" && !webUserRE.MatchString(c.DefaultUser) {
		return bad("defaultUser %q: use 1 to 64 letters, digits, '.', '_' or '-'", c.DefaultUser)
	}
	return nil
}

// Named id token breakages of a WebScenario (IDTokenFault): the OpenID
// Foundation's rp-id_token-* tests and a few more.
const (
	WebIDTokenForged     = "forged"       // signed RS256 by a key the AZ never published
	WebIDTokenBadSig     = "bad-sig"      // one bit of the signature flipped
	WebIDTokenAlgNone    = "alg-none"     // alg none, empty signature
	WebIDTokenHS256      = "hs256-pubkey" // HS256 keyed with the AZ public key (SPKI PEM)
	WebIDTokenExpired    = "expired"      // exp an hour ago
	WebIDTokenWrongAud   = "wrong-aud"    // aud another app id
	WebIDTokenWrongIss   = "wrong-iss"    // iss another issuer
	WebIDTokenNoSub      = "no-sub"
	WebIDTokenNoIat      = "no-iat"
	WebIDTokenNoExp      = "no-exp"
	WebIDTokenWrongNonce = "wrong-nonce" // nonce not the one of the authorization request
	WebIDTokenUnknownKid = "unknown-kid" // kid the AZ never published, signed by that unknown key
)

// WebIDTokenFaults lists the IDTokenFault names.
func WebIDTokenFaults() []string {
	return []string{WebIDTokenForged, WebIDTokenBadSig, WebIDTokenAlgNone, WebIDTokenHS256, WebIDTokenExpired, WebIDTokenWrongAud,
		WebIDTokenWrongIss, WebIDTokenNoSub, WebIDTokenNoIat, WebIDTokenNoExp, WebIDTokenWrongNonce, WebIDTokenUnknownKid}
}

// Values the id token breakages put in.
const (
	WebWrongAud   = "00000000-0000-4000-8000-0000000000ad"
	WebWrongIss   = "http://evil.example/imf-authserver"
	WebWrongNonce = "mcaspec-not-the-nonce-of-this-request"
	WebUnknownKid = "mcaspec-unknown-kid"
)

// WebScenario makes the web flow misbehave for one web client. The zero
// value is the well-behaved AZ. Token endpoint answers with a status or a
// body (500, HTML), delays and hangs are faults (SetFault with
// EndpointWebToken); the rest is here.
type WebScenario struct {
	// IDTokenFault is one of WebIDTokenFaults ("" = a valid id token).
	IDTokenFault string `json:"idTokenFault,omitempty"`
	// IDToken are more mutations applied to the id tokens (Go API only).
	IDToken []tokenfactory.Mutation `json:"-"`
	// OmitIDToken answers the token request with JSON without id_token.
	OmitIDToken bool `json:"omitIdToken,omitempty"`
	// Deny makes the authorization endpoint send the browser back with
	// error=Deny (e.g. "access_denied") instead of a code.
	Deny string `json:"deny,omitempty"`
	// Reset makes the token endpoint close the connection without an answer.
	Reset bool `json:"reset,omitempty"`
	// TokenLifetime is exp - iat and expires_in of the tokens issued
	// (0: the server's token lifetime).
	TokenLifetime Duration `json:"tokenLifetime,omitempty"`
}

// Validate checks a scenario.
func (sc WebScenario) Validate() error {
	if sc.IDTokenFault != "" && !slices.Contains(WebIDTokenFaults(), sc.IDTokenFault) {
		return fmt.Errorf("%w: idTokenFault %q: use one of %s", ErrInvalidWebClient, sc.IDTokenFault, strings.Join(WebIDTokenFaults(), ", "))
	}
	if sc.Deny != "" && !regexp.MustCompile(`^[a-z_]{1,64}$`).MatchString(sc.Deny) {
		return fmt.Errorf("%w: deny %q: an OAuth error code such as access_denied", ErrInvalidWebClient, sc.Deny)
	}
	if sc.TokenLifetime < 0 {
		return fmt.Errorf("%w: tokenLifetime must not be negative", ErrInvalidWebClient)
	}
	return nil
}

// webState is the web flow's part of a Server (guarded by Server.mu).
type webState struct {
	clients  map[string]*webClientState
	codes    map[string]*webCode
	forgeKey *rsa.PrivateKey // the key of "forged" and "unknown-kid" id tokens
}

type webClientState struct {
	c  WebClient
	sc WebScenario
}

type webCode struct {
	clientID, appID, redirectURI, nonce, challenge, method, user string
	redirectGiven                                                bool
	expires                                                      time.Time
	used                                                         bool
}

func (w *webState) init() {
	if w.clients == nil {
		w.clients = map[string]*webClientState{}
		w.codes = map[string]*webCode{}
	}
}

// AddWebClient registers a web client of a registered app.
func (s *Server) AddWebClient(c WebClient) (WebClient, error) {
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.AppID = strings.ToLower(c.AppID)
	if err := c.Validate(); err != nil {
		return WebClient{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.appLocked(c.AppID); err != nil {
		return WebClient{}, err
	}
	s.web.init()
	if _, dup := s.web.clients[c.ClientID]; dup {
		return WebClient{}, fmt.Errorf("%w: web client %q already registered (remove it first)", ErrAppExists, c.ClientID)
	}
	s.web.clients[c.ClientID] = &webClientState{c: c}
	return c, nil
}

// WebClients returns the web clients of an app ("" = every app), sorted by client id.
func (s *Server) WebClients(appID string) []WebClient {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []WebClient
	for _, st := range s.web.clients {
		if appID == "" || st.c.AppID == appID {
			c := st.c
			c.RedirectURIs = slices.Clone(c.RedirectURIs)
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ClientID < out[j].ClientID })
	return out
}

// RemoveWebClient forgets a web client and its pending codes.
func (s *Server) RemoveWebClient(clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.web.clients[clientID] == nil {
		return fmt.Errorf("%w: web client %q", ErrUnknownClient, clientID)
	}
	delete(s.web.clients, clientID)
	for k, c := range s.web.codes {
		if c.clientID == clientID {
			delete(s.web.codes, k)
		}
	}
	return nil
}

// SetWebScenario sets how the AZ treats web client clientID from now on
// (WebScenario{} restores the well-behaved AZ).
func (s *Server) SetWebScenario(clientID string, sc WebScenario) error {
	if err := sc.Validate(); err != nil {
		return err
	}
	sc.IDToken = slices.Clone(sc.IDToken)
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.web.clients[clientID]
	if st == nil {
		return fmt.Errorf("%w: web client %q", ErrUnknownClient, clientID)
	}
	st.sc = sc
	return nil
}

// WebAuthorizationURL is the authorization endpoint of an app's web clients
// (MCA_AUTHORIZATION_ENDPOINT).
func (s *Server) WebAuthorizationURL(appID string) string {
	return s.AppURL(appID) + "/" + EndpointWebAuthorization
}

// WebTokenURL is the token endpoint of an app's web clients (MCA_TOKEN_ENDPOINT).
func (s *Server) WebTokenURL(appID string) string { return s.AppURL(appID) + "/" + EndpointWebToken }

// WebEndpoints returns the authorization and token endpoints of an app's web
// clients as its profile has them: WebAuthorizationURL and WebTokenURL for an
// MCA app; {OAuthServerURL}/authorization and {OAuthServerURL}/token for a
// ProfileAppID app (what App ID's WebAppStrategy builds from its oauthServerUrl).
func (s *Server) WebEndpoints(appID string) (authorization, token string) {
	a, err := s.App(appID)
	return WebEndpointsAt(s.URL(), appID, err == nil && a.IsAppID())
}

// WebEndpointsAt returns what WebEndpoints would for an app of a server at
// serverURL (its serverUrl, BasePath included), without the server: for
// an App ID app when appID is true.
func WebEndpointsAt(serverURL, appID string, appIDProfile bool) (authorization, token string) {
	if appIDProfile {
		base := oauthServerURL(serverURL, appID)
		return base + "/authorization", base + "/" + AppIDToken
	}
	base := origin(serverURL) + AppsPath + appID
	return base + "/" + EndpointWebAuthorization, base + "/" + EndpointWebToken
}

// webClient returns a copy of a web client and its scenario.
func (s *Server) webClient(clientID string) (WebClient, WebScenario, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.web.clients[clientID]
	if st == nil {
		return WebClient{}, WebScenario{}, false
	}
	return st.c, st.sc, true
}

// webRoutes registers the web endpoints on the server's mux (see routes).
// The App ID flavour: the authorization endpoint under the oauthServerUrl;
// its token endpoint is the App ID one (appid.go), which hands the
// authorization_code grant (a form or, as WebAppStrategy sends it, a
// multipart body) to handleWebToken.
func (s *Server) webRoutes(endpoint func(method, path, name, suffix string, h http.HandlerFunc)) {
	endpoint(http.MethodGet, AppsPath+"{appId}/"+EndpointWebAuthorization, EndpointWebAuthorization, EndpointWebAuthorization, s.withMCAApp(s.handleWebAuthorization))
	endpoint(http.MethodPost, AppsPath+"{appId}/"+EndpointWebToken, EndpointWebToken, EndpointWebToken, s.withMCAApp(s.handleWebToken))
	endpoint(http.MethodGet, AppIDPath+"{appId}/authorization", EndpointWebAuthorization, "authorization", s.withAppIDApp(func(w http.ResponseWriter, r *http.Request, a App) {
		s.withMCAApp(s.handleWebAuthorization)(w, r)
	}))
}

// WebTokenEndpoint is the name (for faults and stats) of the endpoint an
// app's web clients trade codes at: EndpointWebToken, or EndpointToken for a
// ProfileAppID app (the App ID token endpoint serves both grants).
func (s *Server) WebTokenEndpoint(appID string) string {
	if a, err := s.App(appID); err == nil && a.IsAppID() {
		return EndpointToken
	}
	return EndpointWebToken
}

// appIDAuthorizationCode serves the authorization_code grant at the App ID
// token endpoint; it reports false (nothing written, the form kept for the
// caller) for any other request.
func (s *Server) appIDAuthorizationCode(w http.ResponseWriter, r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct != "multipart/form-data" && ct != "application/x-www-form-urlencoded" {
		return false
	}
	if err := parseTokenForm(r); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a form (at most 64 KiB): "+err.Error())
		return true
	}
	if r.PostForm.Get("grant_type") != "authorization_code" {
		return false
	}
	s.withMCAApp(s.handleWebToken)(w, r)
	return true
}

// parseTokenForm parses a token request's form, urlencoded or multipart.
func parseTokenForm(r *http.Request) error {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "multipart/form-data" {
		return r.ParseMultipartForm(MaxBodyBytes)
	}
	return r.ParseForm()
}

// handleWebAuthorization is the authorization endpoint: it checks the
// client and its redirect URI (an error page, never a redirect, when either
// is wrong: RFC 6749 §4.1.2.1), consents at once for the browser's user, and
// sends the browser back with a code and the state.
func (s *Server) handleWebAuthorization(w http.ResponseWriter, r *http.Request, a *appState) {
	q := r.URL.Query()
	c, sc, ok := s.webClient(q.Get("client_id"))
	if !ok || c.AppID != a.app.ID {
		writeErr(w, http.StatusBadRequest, "invalid_client", fmt.Sprintf("client_id %q is not a web client of app %s", q.Get("client_id"), a.app.ID))
		return
	}
	redirect, given := q.Get("redirect_uri"), q.Has("redirect_uri")
	switch {
	case !given && len(c.RedirectURIs) == 1:
		redirect = c.RedirectURIs[0]
	case !slices.Contains(c.RedirectURIs, redirect):
		writeErr(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("redirect_uri %q is not registered for web client %q (registered: %s; compared exactly)", redirect, c.ClientID, strings.Join(c.RedirectURIs, ", ")))
		return
	}
	state := q.Get("state")
	back := func(params url.Values) {
		u, _ := url.Parse(redirect) // registered URIs parse
		v := u.Query()
		for k, vs := range params {
			v[k] = vs
		}
		if state != "" {
			v.Set("state", state)
		}
		u.RawQuery = v.Encode()
		w.Header().Set("Location", u.String())
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusFound)
	}
	fail := func(code, desc string) {
		setOutcome(w, code)
		back(url.Values{"error": {code}, "error_description": {desc}})
	}
	method := q.Get("code_challenge_method")
	switch {
	case q.Get("response_type") != "code":
		fail("unsupported_response_type", fmt.Sprintf("response_type must be \"code\", got %q", q.Get("response_type")))
		return
	case method != "" && method != "S256" && method != "plain":
		fail("invalid_request", fmt.Sprintf("code_challenge_method %q: use S256", method))
		return
	case method != "" && q.Get("code_challenge") == "":
		fail("invalid_request", "code_challenge_method without code_challenge")
		return
	case sc.Deny != "":
		fail(sc.Deny, "the user did not consent (scenario)")
		return
	}
	user := c.DefaultUser
	if user == "" {
		user = DefaultWebUser
	}
	if ck, err := r.Cookie(WebUserCookie); err == nil {
		if !webUserRE.MatchString(ck.Value) {
			writeErr(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("cookie %s %q: use 1 to 64 letters, digits, '.', '_' or '-'", WebUserCookie, ck.Value))
			return
		}
		user = ck.Value
	}
	if method == "" && q.Get("code_challenge") != "" {
		method = "plain" // RFC 7636 §4.3
	}
	code := base64.RawURLEncoding.EncodeToString(s.randBytes(32))
	codeTTL, _ := s.lifetimes()
	s.mu.Lock()
	s.web.init()
	s.pruneWebCodesLocked()
	s.web.codes[code] = &webCode{clientID: c.ClientID, appID: c.AppID, redirectURI: redirect, redirectGiven: given,
		nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), method: method, user: user, expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	setOutcome(w, "code")
	back(url.Values{"code": {code}})
}

// maxWebCodes bounds the codes kept; expired and used ones go first.
const maxWebCodes = 4096

func (s *Server) pruneWebCodesLocked() {
	if len(s.web.codes) < maxWebCodes {
		return
	}
	now := s.now()
	for k, c := range s.web.codes {
		if c.used || !now.Before(c.expires) {
			delete(s.web.codes, k)
		}
	}
	for k := range s.web.codes {
		if len(s.web.codes) < maxWebCodes {
			break
		}
		delete(s.web.codes, k)
	}
}

// handleWebToken is the token endpoint of web clients: grant_type
// authorization_code, the client authenticated by client_secret_basic (or
// client_secret_post), the code single-use, the redirect_uri and the PKCE
// verifier checked.
func (s *Server) handleWebToken(w http.ResponseWriter, r *http.Request, a *appState) {
	id, secret, basic := r.BasicAuth()
	if !basic {
		if err := parseTokenForm(r); err != nil {
			writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a form (application/x-www-form-urlencoded, at most 64 KiB): "+err.Error())
			return
		}
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	c, sc, ok := s.webClient(id)
	if !ok || c.AppID != a.app.ID || subtle.ConstantTimeCompare([]byte(c.Secret), []byte(secret)) != 1 {
		w.Header().Set("WWW-Authenticate", `Basic realm="fakeaz"`)
		writeErr(w, http.StatusUnauthorized, "invalid_client", fmt.Sprintf("authenticate as a web client of app %s: Authorization: Basic base64(clientId:secret)", a.app.ID))
		return
	}
	if sc.Reset {
		setOutcome(w, "reset")
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			_ = conn.Close()
		}
		return
	}
	if err := parseTokenForm(r); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "token request body must be a form (application/x-www-form-urlencoded or multipart, at most 64 KiB): "+err.Error())
		return
	}
	if gt := r.PostForm.Get("grant_type"); gt != "authorization_code" {
		writeErr(w, http.StatusBadRequest, "unsupported_grant_type", fmt.Sprintf("grant_type %q: web clients use authorization_code", gt))
		return
	}
	code := r.PostForm.Get("code")
	verifier := r.PostForm.Get("code_verifier")
	now := s.now()
	s.mu.Lock()
	e := s.web.codes[code]
	var problem string
	switch {
	case code == "":
		problem = "code is missing"
	case e == nil:
		problem = "the code is unknown"
	case e.clientID != c.ClientID:
		problem = "the code was issued to another client"
	case e.used:
		problem = "the code has already been used (codes are single-use)"
	case !now.Before(e.expires):
		problem = "the code has expired"
	case e.redirectGiven && r.PostForm.Get("redirect_uri") != e.redirectURI:
		problem = fmt.Sprintf("redirect_uri %q differs from the one of the authorization request", r.PostForm.Get("redirect_uri"))
	case e.challenge != "" && !pkceMatches(e.method, e.challenge, verifier):
		problem = "code_verifier does not match the code_challenge (RFC 7636 §4.6)"
	default:
		e.used = true
	}
	var entry webCode
	if e != nil {
		entry = *e
	}
	s.mu.Unlock()
	if problem != "" {
		writeErr(w, http.StatusBadRequest, "invalid_grant", problem)
		return
	}
	resp, err := s.webTokens(r.Context(), c, sc, entry)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	setOutcome(w, "tokens")
	writeJSON(w, http.StatusOK, resp)
}

func pkceMatches(method, challenge, verifier string) bool {
	if verifier == "" {
		return false
	}
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		verifier = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	return subtle.ConstantTimeCompare([]byte(verifier), []byte(challenge)) == 1
}

// webTokens mints the tokens of a redeemed code: an access token for the web
// client and an id token with the user, the nonce and the scenario's breakage.
func (s *Server) webTokens(ctx context.Context, c WebClient, sc WebScenario, code webCode) (TokenResponse, error) {
	_, ttl := s.lifetimes()
	if sc.TokenLifetime > 0 {
		ttl = time.Duration(sc.TokenLifetime)
	}
	s.mu.Lock()
	st, err := s.appLocked(c.AppID)
	var key *rsa.PrivateKey
	var kid string
	var shape tokenfactory.Shape
	if err == nil {
		key, kid, shape = st.cur.priv, st.cur.kid, st.app.TokenShape()
	}
	s.mu.Unlock()
	if err != nil {
		return TokenResponse{}, err
	}
	iss := s.serverURL(ctx)
	if shape.AppID() {
		iss = oauthServerURL(iss, c.AppID)
	}
	f, err := tokenfactory.New(key, tokenfactory.WithShape(shape), tokenfactory.WithIssuer(iss), tokenfactory.WithKeyID(kid),
		tokenfactory.WithClock(s.tokenNow), tokenfactory.WithLifetime(ttl))
	if err != nil {
		return TokenResponse{}, err
	}
	var muts []tokenfactory.Mutation
	if shape.AppID() {
		// App ID tokens of a web client name the client in aud, as the
		// genuine WebAppStrategy of each generation compares it: an array
		// holding it (v4: 6.0.0 and later), the client id itself before
		// (4.x and 5.x: aud === clientId). iss is the factory's (the host of
		// the oauthServerUrl for ShapeAppIDV3Host, as 4.x compares it).
		var aud any = []string{c.ClientID}
		if shape != tokenfactory.ShapeAppIDV4 {
			aud = c.ClientID
		}
		muts = append(muts, tokenfactory.WithClaim("aud", aud))
	}
	at, err := f.AccessToken(tokenfactory.Access{AppID: c.AppID, ClientID: c.ClientID}, muts...)
	if err != nil {
		return TokenResponse{}, err
	}
	resp := TokenResponse{AccessToken: at, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())}
	if sc.OmitIDToken {
		return resp, nil
	}
	if code.nonce != "" {
		muts = append(muts, tokenfactory.WithClaim("nonce", code.nonce))
	}
	if sc.IDTokenFault != "" {
		m, err := s.webIDTokenFault(sc.IDTokenFault)
		if err != nil {
			return TokenResponse{}, err
		}
		muts = append(muts, m...)
	}
	muts = append(muts, sc.IDToken...)
	resp.IDToken, err = f.IDToken(tokenfactory.ID{AppID: c.AppID, ClientID: c.ClientID,
		User: &tokenfactory.User{ID: code.user, AuthBy: WebAuthBy, DisplayName: code.user, Attributes: map[string]any{}}}, muts...)
	return resp, err
}

// webIDTokenFault returns the mutations of a named id token breakage.
func (s *Server) webIDTokenFault(name string) ([]tokenfactory.Mutation, error) {
	forgeKey := func() (*rsa.PrivateKey, error) {
		s.mu.Lock()
		k := s.web.forgeKey
		s.mu.Unlock()
		if k != nil {
			return k, nil
		}
		sk, err := s.newSigningKey()
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.web.forgeKey == nil {
			s.web.forgeKey = sk.priv
		}
		k = s.web.forgeKey
		s.mu.Unlock()
		return k, nil
	}
	switch name {
	case WebIDTokenForged, WebIDTokenUnknownKid:
		k, err := forgeKey()
		if err != nil {
			return nil, err
		}
		ms := []tokenfactory.Mutation{tokenfactory.SignedBy(k)}
		if name == WebIDTokenUnknownKid {
			ms = append(ms, tokenfactory.Mutation{Name: "kid/unknown", Doc: "The kid header names a key the AZ never published.",
				Before: func(dr *tokenfactory.Draft, _ tokenfactory.Env) error { dr.Header["kid"] = WebUnknownKid; return nil }})
		}
		return ms, nil
	case WebIDTokenBadSig:
		return []tokenfactory.Mutation{tokenfactory.FlipBit(tokenfactory.SegSignature)}, nil
	case WebIDTokenAlgNone:
		return []tokenfactory.Mutation{tokenfactory.AlgNone("none", false)}, nil
	case WebIDTokenHS256:
		return []tokenfactory.Mutation{tokenfactory.HS256WithPublicKey(tokenfactory.KeySPKIPEM)}, nil
	case WebIDTokenExpired:
		return []tokenfactory.Mutation{tokenfactory.ExpiredBy(time.Hour)}, nil
	case WebIDTokenWrongAud:
		return []tokenfactory.Mutation{tokenfactory.WrongAud(WebWrongAud)}, nil
	case WebIDTokenWrongIss:
		return []tokenfactory.Mutation{tokenfactory.WrongIss(WebWrongIss)}, nil
	case WebIDTokenNoSub:
		return []tokenfactory.Mutation{tokenfactory.WithoutClaim("sub")}, nil
	case WebIDTokenNoIat:
		return []tokenfactory.Mutation{tokenfactory.WithoutClaim("iat")}, nil
	case WebIDTokenNoExp:
		return []tokenfactory.Mutation{tokenfactory.NoExp()}, nil
	case WebIDTokenWrongNonce:
		return []tokenfactory.Mutation{tokenfactory.WithClaim("nonce", WebWrongNonce)}, nil
	}
	return nil, fmt.Errorf("%w: idTokenFault %q", ErrInvalidWebClient, name)
}

// webAdminAPI is the web flow's admin API (registered by adminRoutes).
func (s *Server) webAdminAPI() []adminHandler {
	return []adminHandler{
		{"GET /admin/web-clients", s.adminListWebClients},
		{"POST /admin/web-clients", adminCreate(s.AddWebClient)},
		{"DELETE /admin/web-clients/{clientId}", s.adminRemoveWebClient},
		{"PUT /admin/web-clients/{clientId}/scenario", s.adminSetWebScenario},
	}
}

// WebAdminRoutes returns the admin API routes of the web flow.
func WebAdminRoutes() []string { return patterns((*Server)(nil).webAdminAPI()) }

func (s *Server) adminListWebClients(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.WebClients(r.URL.Query().Get("appId")))
}

func (s *Server) adminRemoveWebClient(w http.ResponseWriter, r *http.Request) {
	adminAnswer(w, http.StatusNoContent, nil, s.RemoveWebClient(r.PathValue("clientId")))
}

func (s *Server) adminSetWebScenario(w http.ResponseWriter, r *http.Request) {
	var sc WebScenario
	if !decodeAdmin(w, r, &sc) {
		return
	}
	err := s.SetWebScenario(r.PathValue("clientId"), sc)
	adminAnswer(w, http.StatusOK, sc, err)
}
