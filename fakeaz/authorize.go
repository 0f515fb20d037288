package fakeaz

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// ChallengeHeader is the WWW-Authenticate value of a challenge response.
const ChallengeHeader = "WL-Composite-Challenge"

// stateTTL bounds how long a custom IdP's stateId is remembered for a client.
const stateTTL = 10 * time.Minute

// authState is a custom-realm conversation in progress, keyed by
// X-WL-Session + client id.
type authState struct {
	appID   string
	stateID string
	expires time.Time
}

// codeEntry is an issued authorization code.
type codeEntry struct {
	appID, clientID, redirectURI, realm string
	user                                *tokenfactory.User
	expires                             time.Time
	used                                bool
}

// ChallengeBody returns the exact body of a challenge response for one realm.
func ChallengeBody(realm string, challenge json.RawMessage) []byte {
	name, _ := json.Marshal(realm)
	if len(challenge) == 0 {
		challenge = json.RawMessage("{}")
	}
	var b bytes.Buffer
	b.WriteString("/*-secure-\n{\"challenges\": {")
	b.Write(name)
	b.WriteString(": ")
	b.Write(challenge)
	b.WriteString("}}*/")
	return b.Bytes()
}

func writeChallenge(w http.ResponseWriter, realm string, challenge json.RawMessage) {
	setOutcome(w, "challenge")
	w.Header().Set("WWW-Authenticate", ChallengeHeader)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(ChallengeBody(realm, challenge))
}

// clientFor returns the client if registered and not revoked, or writes the error.
func (s *Server) clientFor(w http.ResponseWriter, a *appState, clientID string, revokedStatus int) (*Client, bool) {
	if clientID == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "client_id is missing")
		return nil, false
	}
	s.mu.Lock()
	c := a.clients[clientID]
	var cc Client
	if c != nil {
		cc = *c
	}
	s.mu.Unlock()
	switch {
	case c == nil:
		writeErr(w, http.StatusBadRequest, "unauthorized_client", fmt.Sprintf("client_id %q is not registered for app %s: register the device first (POST clients/instance)", clientID, a.app.ID))
		return nil, false
	case cc.Revoked:
		writeErr(w, revokedStatus, "unauthorized_client", fmt.Sprintf("client_id %q has been revoked: register the device again", clientID))
		return nil, false
	}
	return &cc, true
}

func (s *Server) handleAuthorization(w http.ResponseWriter, r *http.Request, a *appState) {
	q := r.URL.Query()
	if rt := q.Get("response_type"); rt != "code" {
		writeErr(w, http.StatusBadRequest, "unsupported_response_type", fmt.Sprintf("response_type must be \"code\", got %q", rt))
		return
	}
	redirect := q.Get("redirect_uri")
	ru, err := url.Parse(redirect)
	if redirect == "" || err != nil || ru.Scheme == "" || ru.Host == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("redirect_uri must be an absolute URL such as http://localhost, got %q", redirect))
		return
	}
	c, ok := s.clientFor(w, a, q.Get("client_id"), http.StatusForbidden)
	if !ok {
		return
	}
	s.mu.Lock()
	realm := a.app.Realm
	s.mu.Unlock()
	name := realm.RealmName()
	if name == "" {
		s.redirectWithCode(w, r, c, redirect, "", nil)
		return
	}
	answer, err := parseAnswer(r.Header.Get("Authorization"), name)
	if err != nil {
		// Not 400: the iOS SDK wipes its registration on a 400 from this endpoint.
		redirectWithFailure(w, redirect, name, err.Error())
		return
	}
	var id *idp.Identity
	switch kind := realm.kind(); {
	case kind == RealmCustom:
		id, ok = s.authCustom(w, r, c, realm, redirect, answer)
	case answer == nil: // a social realm: challenge with the app's id at the provider
		writeChallenge(w, name, realm.socialChallenge())
		return
	case kind == RealmFacebook:
		id, ok = s.authFacebook(w, r, realm, redirect, answer)
	case kind == RealmGoogle:
		id, ok = s.authGoogle(w, r, realm, redirect, answer)
	}
	if !ok {
		return
	}
	if id == nil || id.UserName == "" {
		writeErr(w, http.StatusBadGateway, "server_error", "the identity provider reported success without a user name")
		return
	}
	user := &tokenfactory.User{ID: id.UserName, AuthBy: name, DisplayName: id.DisplayName, Attributes: id.Attributes}
	s.redirectWithCode(w, r, c, redirect, name, user)
}

// socialChallenge is the challenge of a Facebook or Google realm: the id
// the device signs in with at the provider.
func (r Realm) socialChallenge() json.RawMessage {
	ch := map[string]string{"facebookAppId": r.FacebookAppID}
	if r.kind() == RealmGoogle {
		ch = map[string]string{"gClientId": r.GoogleClientID}
	}
	b, _ := json.Marshal(ch)
	return b
}

// authFacebook verifies the challenge answer's Facebook access token at the
// Graph API; false means it has answered.
func (s *Server) authFacebook(w http.ResponseWriter, r *http.Request, realm Realm, redirect string, answer json.RawMessage) (*idp.Identity, bool) {
	name := realm.RealmName()
	var ans struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(answer, &ans); err != nil || ans.AccessToken == "" {
		redirectWithFailure(w, redirect, name, `the wl_facebookRealm answer must be {"accessToken": "<Facebook access token>"}`)
		return nil, false
	}
	id, err := facebook.Verify(r.Context(), s.hc, realm.GraphURL, realm.FacebookAppID, realm.FacebookAppSecret, ans.AccessToken)
	return id, s.idpOK(w, redirect, name, "Facebook", err)
}

// authGoogle verifies the challenge answer's id token (iOS) or access
// token (Android) at tokeninfo; false means it has answered.
func (s *Server) authGoogle(w http.ResponseWriter, r *http.Request, realm Realm, redirect string, answer json.RawMessage) (*idp.Identity, bool) {
	name := realm.RealmName()
	var ans struct {
		IDToken     string `json:"idToken"`
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(answer, &ans); err != nil || (ans.IDToken == "" && ans.AccessToken == "") {
		redirectWithFailure(w, redirect, name, `the wl_googleRealm answer must be {"idToken": ...} (iOS) or {"accessToken": ...} (Android)`)
		return nil, false
	}
	tok, kind := ans.IDToken, google.IDToken
	if tok == "" {
		tok, kind = ans.AccessToken, google.AccessToken
	}
	id, err := google.Verify(r.Context(), s.hc, realm.TokenInfoURL, realm.GoogleClientID, tok, kind)
	return id, s.idpOK(w, redirect, name, "Google", err)
}

// idpOK maps a provider verification error to a response; true means no
// error. A refused credential is a WL-Authentication-Failure redirect for
// realm (what the SDKs read); an unreachable or broken provider is a 5xx.
func (s *Server) idpOK(w http.ResponseWriter, redirect, realm, provider string, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, idp.ErrInvalidToken):
		redirectWithFailure(w, redirect, realm, provider+" rejected the token (expired, revoked or issued for another app): "+err.Error())
	case errors.Is(err, idp.ErrUnavailable), errors.Is(err, context.DeadlineExceeded):
		writeErr(w, http.StatusServiceUnavailable, "temporarily_unavailable", provider+" could not be reached: "+err.Error())
	default:
		writeErr(w, http.StatusBadGateway, "server_error", provider+" check failed: "+err.Error())
	}
	return false
}

// parseAnswer extracts the realm's answer from `Authorization: Bearer {"<realm>": <answer>}`.
// It returns nil when the header carries no answer for realm.
func parseAnswer(h, realm string) (json.RawMessage, error) {
	if h == "" {
		return nil, nil
	}
	scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
	rest = strings.TrimSpace(rest)
	if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(rest, "{") {
		return nil, nil // some other credential: challenge again
	}
	var answers map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rest), &answers); err != nil {
		return nil, fmt.Errorf(`challenge answer must be Authorization: Bearer {"%s": <answer JSON>} (raw JSON): %w`, realm, err)
	}
	a, ok := answers[realm]
	if !ok || string(a) == "null" {
		return nil, nil
	}
	return a, nil
}

func stateKey(r *http.Request, clientID string) string {
	return r.Header.Get("X-WL-Session") + "\x00" + clientID
}

func forwardHeaders(r *http.Request) map[string]string {
	h := map[string]string{}
	for k, v := range r.Header {
		switch k {
		case "Authorization", "Cookie":
			continue
		}
		if len(v) > 0 {
			h[k] = v[0]
		}
	}
	return h
}

// authCustom runs one step of the custom-realm conversation. It returns the
// identity on success; otherwise it has written the response.
func (s *Server) authCustom(w http.ResponseWriter, r *http.Request, c *Client, realm Realm, redirect string, answer json.RawMessage) (*idp.Identity, bool) {
	cl := &custom.Client{BaseURL: realm.IdPURL, HTTP: s.hc}
	key := stateKey(r, c.ClientID)
	var stateID string
	if answer != nil {
		s.mu.Lock()
		if st := s.states[key]; st != nil && st.appID == c.AppID && s.now().Before(st.expires) {
			stateID = st.stateID
		}
		s.mu.Unlock()
	}
	var reply *custom.Reply
	var err error
	if answer != nil {
		// Forward every answer, with the stateId of the conversation if one is
		// in progress for this session and client ("" otherwise: the IdP decides).
		reply, err = cl.HandleChallengeAnswer(r.Context(), c.AppID, realm.Name, forwardHeaders(r), stateID, answer)
	} else {
		reply, err = cl.StartAuthorization(r.Context(), c.AppID, realm.Name, forwardHeaders(r))
	}
	if err != nil {
		s.idpOK(w, redirect, realm.Name, "the custom identity provider", err)
		return nil, false
	}
	switch reply.Status {
	case custom.StatusChallenge:
		s.mu.Lock()
		s.pruneStatesLocked()
		s.states[key] = &authState{appID: c.AppID, stateID: reply.StateID, expires: s.now().Add(stateTTL)}
		s.mu.Unlock()
		writeChallenge(w, realm.Name, reply.Challenge)
		return nil, false
	case custom.StatusSuccess:
		s.mu.Lock()
		delete(s.states, key)
		s.mu.Unlock()
		if reply.UserIdentity == nil {
			writeErr(w, http.StatusBadGateway, "server_error", "the custom identity provider reported success without userIdentity")
			return nil, false
		}
		return reply.UserIdentity, true
	default:
		s.mu.Lock()
		delete(s.states, key)
		s.mu.Unlock()
		redirectWithFailure(w, redirect, realm.Name, "the identity provider refused the credentials")
		return nil, false
	}
}

func (s *Server) pruneStatesLocked() {
	if len(s.states) < s.statePruneAt {
		return
	}
	now := s.now()
	for k, st := range s.states {
		if !now.Before(st.expires) {
			delete(s.states, k)
		}
	}
	s.statePruneAt = max(1024, 2*len(s.states))
}

func (s *Server) redirectWithCode(w http.ResponseWriter, r *http.Request, c *Client, redirect, realm string, user *tokenfactory.User) {
	code := tokenfactory.B64.EncodeToString(s.randBytes(32))
	codeTTL, _ := s.lifetimes()
	s.mu.Lock()
	s.pruneCodesLocked()
	s.codes[code] = &codeEntry{appID: c.AppID, clientID: c.ClientID, redirectURI: redirect, realm: realm, user: user, expires: s.now().Add(codeTTL)}
	s.mu.Unlock()
	loc := appendQuery(redirect, "code="+code)
	if realm != "" {
		success := map[string]any{"userId": user.ID, "displayName": user.DisplayName}
		if user.Attributes != nil {
			success["attributes"] = user.Attributes
		}
		loc += "&" + WLResultParam + "=" + wlResult(WLResultSuccess, realm, success)
	}
	setOutcome(w, "code")
	w.Header().Set("Location", loc)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// wl_result: the redirect parameter through which the SDKs learn which realm
// succeeded or failed and call that realm's challenge handler
// (AuthorizationRequestManager processRedirectResponse in both SDKs).
const (
	WLResultParam   = "wl_result"
	WLResultSuccess = "WL-Authentication-Success"
	WLResultFailure = "WL-Authentication-Failure"
)

// wlResult is the URL-encoded wl_result value {"<kind>": {"<realm>": data}}.
// It is percent-encoded with spaces as %20 (never '+', which iOS's
// removingPercentEncoding keeps) and '=' and '&' escaped (Android splits
// the query on them before decoding).
func wlResult(kind, realm string, data any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]any{kind: map[string]any{realm: data}})
	return strings.ReplaceAll(url.QueryEscape(strings.TrimSpace(b.String())), "+", "%20")
}

func appendQuery(redirect, param string) string {
	if strings.Contains(redirect, "?") {
		return redirect + "&" + param
	}
	return redirect + "?" + param
}

// redirectWithFailure answers a refused realm as the SDKs expect: 302 to
// the redirect_uri with wl_result={"WL-Authentication-Failure": {"<realm>":
// {"reason": ...}}} and no code. Android calls the realm's failure handler
// and fails the authorization; iOS calls it and fails for want of a code.
func redirectWithFailure(w http.ResponseWriter, redirect, realm, reason string) {
	setOutcome(w, "access_denied")
	w.Header().Set("Location", appendQuery(redirect, WLResultParam+"="+wlResult(WLResultFailure, realm, map[string]string{"reason": reason})))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusFound)
}

// pruneCodesLocked forgets codes that expired more than a code lifetime ago
// (recently used or expired codes are kept to report why they fail).
func (s *Server) pruneCodesLocked() {
	if len(s.codes) < s.codePruneAt {
		return
	}
	cutoff := s.now().Add(-s.codeTTL)
	for k, e := range s.codes {
		if e.expires.Before(cutoff) {
			delete(s.codes, k)
		}
	}
	s.codePruneAt = max(1024, 2*len(s.codes))
}

func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request, a *appState) {
	clientID := r.URL.Query().Get("client_id")
	if clientID == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "client_id is missing")
		return
	}
	s.mu.Lock()
	delete(s.states, stateKey(r, clientID))
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{"status": "logged out"})
}
