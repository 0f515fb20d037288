package fakeaz

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// faultJSON is the admin API form of a FaultSpec (durations as "1.5s" or seconds).
type faultJSON struct {
	Endpoint    string    `json:"endpoint,omitempty"`
	AppID       string    `json:"appId,omitempty"`
	Status      int       `json:"status,omitempty"`
	Body        string    `json:"body,omitempty"`
	ContentType string    `json:"contentType,omitempty"`
	Delay       Duration  `json:"delay,omitempty"`
	Hang        bool      `json:"hang,omitempty"`
	EveryNth    int       `json:"everyNth,omitempty"`
	Until       time.Time `json:"until,omitzero"`
	For         Duration  `json:"for,omitempty"`
}

func (f faultJSON) spec() FaultSpec {
	return FaultSpec{Endpoint: f.Endpoint, AppID: f.AppID, Status: f.Status, Body: f.Body, ContentType: f.ContentType,
		Delay: time.Duration(f.Delay), Hang: f.Hang, EveryNth: f.EveryNth, Until: f.Until, For: time.Duration(f.For)}
}

func faultToJSON(f FaultSpec) faultJSON {
	return faultJSON{Endpoint: f.Endpoint, AppID: f.AppID, Status: f.Status, Body: f.Body, ContentType: f.ContentType,
		Delay: Duration(f.Delay), Hang: f.Hang, EveryNth: f.EveryNth, Until: f.Until, For: Duration(f.For)}
}

// MarshalJSON writes the fault in the admin API's form (POST and GET
// /admin/faults): camelCase keys, durations as Go duration strings.
func (f FaultSpec) MarshalJSON() ([]byte, error) { return json.Marshal(faultToJSON(f)) }

// TokenRequest is the body of POST /admin/apps/{appId}/tokens: what the
// minted tokens carry. ClientID is required.
type TokenRequest struct {
	ClientID    string                        `json:"clientId"`
	User        *tokenfactory.User            `json:"user,omitempty"`
	Device      tokenfactory.Device           `json:"device"`
	Application tokenfactory.Application      `json:"application"`
	Scope       map[string]tokenfactory.Scope `json:"scope,omitempty"`
}

// adminHandler is one route of the admin API: a method pattern and its handler.
type adminHandler struct {
	pattern string
	handler http.HandlerFunc
}

// adminAPI is the admin API, in the order GET {AdminPath} lists it: the
// one list that adminRoutes registers and AdminRoutes prints. It only takes
// method values, so it can be listed on a nil *Server.
func (s *Server) adminAPI() []adminHandler {
	return []adminHandler{
		{"GET /admin/{$}", s.adminIndex},
		{"GET /admin/apps", s.adminListApps},
		{"POST /admin/apps", adminCreate(s.AddApp)},
		{"GET /admin/apps/{appId}", s.adminGetApp},
		{"DELETE /admin/apps/{appId}", s.adminRemoveApp},
		{"GET /admin/apps/{appId}/clients", s.adminListClients},
		{"POST /admin/apps/{appId}/clients/{clientId}/revoke", s.adminRevokeClient},
		{"GET /admin/apps/{appId}/keys", s.adminGetKeys},
		{"POST /admin/apps/{appId}/rotate-key", s.adminRotateKey},
		{"POST /admin/apps/{appId}/retire-old-keys", s.adminRetireOldKeys},
		{"POST /admin/apps/{appId}/tokens", s.adminMintTokens},
		{"GET /admin/faults", s.adminListFaults},
		{"POST /admin/faults", s.adminSetFault},
		{"DELETE /admin/faults", s.adminClearFaults},
		{"GET /admin/stats", s.adminGetStats},
		{"DELETE /admin/stats", s.adminResetStats},
		{"GET /admin/clock", s.adminGetClock},
		{"PUT /admin/clock", s.adminSetClock},
	}
}

// adminRoutes registers the admin API and the web flow's on the server's
// mux. Every route goes through the middleware as an admin route (the admin
// token, the listener).
func (s *Server) adminRoutes(m *http.ServeMux) {
	handle := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.middleware(adminRoute, h)) }
	handle("GET /admin", s.adminIndex)
	for _, rt := range append(s.adminAPI(), s.webAdminAPI()...) {
		handle(rt.pattern, rt.handler)
	}
	handle("/admin/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", fmt.Sprintf("no admin route %s %s; GET %s lists the routes", r.Method, r.URL.Path, AdminPath))
	})
}

// patterns lists the routes as "METHOD /path" ("GET /admin/{$}" as "GET /admin/").
func patterns(rs []adminHandler) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = strings.TrimSuffix(r.pattern, "{$}")
	}
	return out
}

// AdminRoutes returns the admin API routes as "METHOD /path" patterns.
func AdminRoutes() []string { return patterns((*Server)(nil).adminAPI()) }

func (s *Server) adminListApps(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Apps())
}

func (s *Server) adminGetApp(w http.ResponseWriter, r *http.Request) {
	a, err := s.App(r.PathValue("appId"))
	adminAnswer(w, http.StatusOK, a, err)
}

func (s *Server) adminRemoveApp(w http.ResponseWriter, r *http.Request) {
	adminAnswer(w, http.StatusNoContent, nil, s.RemoveApp(r.PathValue("appId")))
}

func (s *Server) adminListClients(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Clients(r.PathValue("appId"))
	adminAnswer(w, http.StatusOK, cs, err)
}

func (s *Server) adminRevokeClient(w http.ResponseWriter, r *http.Request) {
	adminAnswer(w, http.StatusNoContent, nil, s.RevokeClient(r.PathValue("appId"), r.PathValue("clientId")))
}

func (s *Server) adminGetKeys(w http.ResponseWriter, r *http.Request) {
	s.adminKeys(w, r.PathValue("appId"))
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Overlap Duration `json:"overlap"`
	}
	if r.ContentLength != 0 && !decodeAdmin(w, r, &body) {
		return
	}
	if err := s.RotateKey(r.PathValue("appId"), time.Duration(body.Overlap)); err != nil {
		adminErr(w, err)
		return
	}
	s.adminKeys(w, r.PathValue("appId"))
}

func (s *Server) adminRetireOldKeys(w http.ResponseWriter, r *http.Request) {
	if err := s.RetireOldKeys(r.PathValue("appId")); err != nil {
		adminErr(w, err)
		return
	}
	s.adminKeys(w, r.PathValue("appId"))
}

func (s *Server) adminMintTokens(w http.ResponseWriter, r *http.Request) {
	var req TokenRequest
	if !decodeAdmin(w, r, &req) {
		return
	}
	appID := r.PathValue("appId")
	f, err := s.factoryAt(r.Context(), appID) // in the app's token shape
	if err != nil {
		adminErr(w, err)
		return
	}
	if req.ClientID == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "clientId is required")
		return
	}
	at, err := f.AccessToken(tokenfactory.Access{AppID: appID, ClientID: req.ClientID, Scope: req.Scope})
	if err != nil {
		adminErr(w, err)
		return
	}
	it, err := f.IDToken(tokenfactory.ID{AppID: appID, ClientID: req.ClientID, User: req.User, Device: req.Device, Application: req.Application})
	if err != nil {
		adminErr(w, err)
		return
	}
	_, ttl := s.lifetimes()
	writeJSON(w, http.StatusOK, TokenResponse{AccessToken: at, IDToken: it, TokenType: "Bearer", ExpiresIn: int64(ttl.Seconds())})
}

func (s *Server) adminListFaults(w http.ResponseWriter, _ *http.Request) {
	out := []faultJSON{}
	for _, f := range s.Faults() {
		out = append(out, faultToJSON(f))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) adminSetFault(w http.ResponseWriter, r *http.Request) {
	var f faultJSON
	if !decodeAdmin(w, r, &f) {
		return
	}
	adminAnswer(w, http.StatusNoContent, nil, s.SetFault(f.spec()))
}

func (s *Server) adminClearFaults(w http.ResponseWriter, _ *http.Request) {
	s.ClearFaults()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminGetStats(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, s.Stats())
}

func (s *Server) adminResetStats(w http.ResponseWriter, _ *http.Request) {
	s.ResetStats()
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) adminGetClock(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"offset": Duration(s.ClockOffset()), "now": s.now().UTC(), "tokenNow": s.tokenNow().UTC()})
}

func (s *Server) adminSetClock(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Offset *Duration `json:"offset"`
	}
	if !decodeAdmin(w, r, &body) {
		return
	}
	if body.Offset == nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", `body must be {"offset": "-5m"} (a Go duration or seconds)`)
		return
	}
	s.SetClockOffset(time.Duration(*body.Offset))
	writeJSON(w, http.StatusOK, map[string]any{"offset": *body.Offset})
}

func (s *Server) adminIndex(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"serverUrl": s.serverURL(r.Context()),
		"appsBase":  origin(s.serverURL(r.Context())) + AppsPath,
		"endpoints": endpoints,
		"routes":    AdminRoutes(),
		"webRoutes": WebAdminRoutes(),
	})
}

func (s *Server) adminKeys(w http.ResponseWriter, appID string) {
	keys, err := s.JWKS(appID)
	if err != nil {
		adminErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"current": keys[0].Kid, "keys": keys})
}

func decodeAdmin(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := decodeOneObject(http.MaxBytesReader(w, r.Body, 1<<20), v); err != nil {
		msg := "request body must be one JSON object"
		if errors.Is(err, io.EOF) {
			msg += " (the body is empty)"
		} else {
			msg += ": " + err.Error()
		}
		writeErr(w, http.StatusBadRequest, "invalid_request", msg)
		return false
	}
	return true
}

// decodeOneObject decodes exactly one JSON object from r into v, unknown
// fields refused: "null", "[]", "{}{}" and trailing data are errors, not an
// empty object (a registration body of "null" must not create an app).
func decodeOneObject(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return err
	}
	if len(raw) == 0 || raw[0] != '{' {
		return fmt.Errorf("the body is %s, not a JSON object", excerptJSON(raw))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("more follows the JSON object: send one object")
	}
	inner := json.NewDecoder(bytes.NewReader(raw))
	inner.DisallowUnknownFields()
	return inner.Decode(v)
}

func excerptJSON(raw []byte) string {
	if len(raw) > 20 {
		return string(raw[:20]) + "..."
	}
	return string(raw)
}

// adminCreate is the handler of an admin POST that adds what its JSON body
// describes: 201 with what add stored.
func adminCreate[T any](add func(T) (T, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var v T
		if !decodeAdmin(w, r, &v) {
			return
		}
		got, err := add(v)
		adminAnswer(w, http.StatusCreated, got, err)
	}
}

// adminAnswer writes the outcome of an admin call: err as adminErr maps it,
// else status with v as the JSON body (none for 204 No Content).
func adminAnswer(w http.ResponseWriter, status int, v any, err error) {
	switch {
	case err != nil:
		adminErr(w, err)
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	default:
		writeJSON(w, status, v)
	}
}

func adminErr(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, ErrUnknownApp), errors.Is(err, ErrUnknownClient):
		writeErr(w, http.StatusNotFound, "not_found", err.Error())
	case errors.Is(err, ErrAppExists):
		writeErr(w, http.StatusConflict, "conflict", err.Error())
	case errors.Is(err, ErrInvalidApp), errors.Is(err, ErrInvalidFault), errors.Is(err, ErrInvalidConfig), errors.Is(err, ErrInvalidWebClient):
		writeErr(w, http.StatusBadRequest, "invalid_request", err.Error())
	default:
		writeErr(w, http.StatusInternalServerError, "server_error", err.Error())
	}
}
