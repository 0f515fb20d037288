package container

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// TokenRequest says what MintToken puts in the tokens (the body of POST
// /admin/apps/{appId}/tokens). The zero value mints an anonymous pair for DefaultClientID.
type TokenRequest struct {
	ClientID    string                        `json:"clientId"`
	User        *tokenfactory.User            `json:"user,omitempty"`
	Device      tokenfactory.Device           `json:"device"`
	Application tokenfactory.Application      `json:"application"`
	Scope       map[string]tokenfactory.Scope `json:"scope,omitempty"`
}

// AdminError is an error answer of the admin API; it wraps ErrAdmin and, when the description
// names one, the fakeaz error behind it (errors.Is(err, fakeaz.ErrUnknownApp) works).
type AdminError struct {
	Method, Path string
	Status       int
	Code         string // "invalid_request", "not_found", "conflict", ...
	Description  string
}

func (e *AdminError) Error() string {
	return fmt.Sprintf("fakeaz admin %s %s: %d %s: %s", e.Method, e.Path, e.Status, e.Code, e.Description)
}

// Unwrap returns ErrAdmin and the fakeaz sentinel errors named in the description.
func (e *AdminError) Unwrap() []error {
	errs := []error{ErrAdmin}
	for _, s := range []error{fakeaz.ErrUnknownApp, fakeaz.ErrUnknownClient, fakeaz.ErrAppExists,
		fakeaz.ErrInvalidApp, fakeaz.ErrInvalidFault, fakeaz.ErrInvalidConfig} {
		if strings.Contains(e.Description, s.Error()) {
			errs = append(errs, s)
		}
	}
	return errs
}

// faultJSON is the admin API form of a fakeaz.FaultSpec.
type faultJSON struct {
	Endpoint    string          `json:"endpoint,omitempty"`
	AppID       string          `json:"appId,omitempty"`
	Status      int             `json:"status,omitempty"`
	Body        string          `json:"body,omitempty"`
	ContentType string          `json:"contentType,omitempty"`
	Delay       fakeaz.Duration `json:"delay,omitempty"`
	Hang        bool            `json:"hang,omitempty"`
	EveryNth    int             `json:"everyNth,omitempty"`
	Until       time.Time       `json:"until,omitzero"`
	For         fakeaz.Duration `json:"for,omitempty"`
}

// admin sends one admin API request; in (if not nil) is sent as JSON, out (if not nil) receives
// the JSON answer. A non-2xx answer is an *AdminError.
func (c *Container) admin(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("fakeaz admin %s %s: encoding the body: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.baseURL()+"/admin"+path, body)
	if err != nil {
		return fmt.Errorf("fakeaz admin %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("fakeaz admin %s %s: %w (is the container running? see its logs)", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("fakeaz admin %s %s: reading the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &AdminError{Method: method, Path: path, Status: resp.StatusCode}
		var eb struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			e.Code, e.Description = eb.Error, eb.Description
		} else {
			e.Code, e.Description = "unexpected_answer", excerpt(b)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("fakeaz admin %s %s: decoding the answer %q: %w", method, path, excerpt(b), err)
		}
	}
	return nil
}

func excerpt(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func appPath(appID string) string { return "/apps/" + url.PathEscape(appID) }

// AddApp registers an app (a generated id when a.ID is empty) and returns it as stored.
func (c *Container) AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error) {
	var got fakeaz.App
	err := c.admin(ctx, http.MethodPost, "/apps", a, &got)
	return got, err
}

// App returns a registered app.
func (c *Container) App(ctx context.Context, appID string) (fakeaz.App, error) {
	var got fakeaz.App
	err := c.admin(ctx, http.MethodGet, appPath(appID), nil, &got)
	return got, err
}

// RemoveApp forgets an app, its keys, clients and pending codes.
func (c *Container) RemoveApp(ctx context.Context, appID string) error {
	return c.admin(ctx, http.MethodDelete, appPath(appID), nil, nil)
}

// Clients returns the devices registered for an app.
func (c *Container) Clients(ctx context.Context, appID string) ([]fakeaz.Client, error) {
	var got []fakeaz.Client
	err := c.admin(ctx, http.MethodGet, appPath(appID)+"/clients", nil, &got)
	return got, err
}

// RevokeClient revokes one device's credentials (see fakeaz.Server.RevokeClient).
func (c *Container) RevokeClient(ctx context.Context, appID, clientID string) error {
	return c.admin(ctx, http.MethodPost, appPath(appID)+"/clients/"+url.PathEscape(clientID)+"/revoke", nil, nil)
}

// MintToken mints an access and id token for an app exactly as the AZ would (current key, iss,
// clock offset). The zero TokenRequest is an anonymous client, DefaultClientID.
func (c *Container) MintToken(ctx context.Context, appID string, r TokenRequest) (fakeaz.TokenResponse, error) {
	if r.ClientID == "" {
		r.ClientID = DefaultClientID
	}
	var got fakeaz.TokenResponse
	err := c.admin(ctx, http.MethodPost, appPath(appID)+"/tokens", r, &got)
	return got, err
}

// Keys returns the kid of the app's current signing key and its JWKS.
func (c *Container) Keys(ctx context.Context, appID string) (current string, keys []fakeaz.JWK, err error) {
	var got struct {
		Current string       `json:"current"`
		Keys    []fakeaz.JWK `json:"keys"`
	}
	err = c.admin(ctx, http.MethodGet, appPath(appID)+"/keys", nil, &got)
	return got.Current, got.Keys, err
}

// RotateKey gives the app a new signing key; the old one stays in the JWKS for overlap.
func (c *Container) RotateKey(ctx context.Context, appID string, overlap time.Duration) error {
	return c.admin(ctx, http.MethodPost, appPath(appID)+"/rotate-key", map[string]fakeaz.Duration{"overlap": fakeaz.Duration(overlap)}, nil)
}

// SetFault activates a fault (see fakeaz.FaultSpec): an error status, a garbage or empty body,
// a delay or a hang on one endpoint (or all), for one app (or all).
func (c *Container) SetFault(ctx context.Context, f fakeaz.FaultSpec) error {
	j := faultJSON{Endpoint: f.Endpoint, AppID: f.AppID, Status: f.Status, Body: f.Body, ContentType: f.ContentType,
		Delay: fakeaz.Duration(f.Delay), Hang: f.Hang, EveryNth: f.EveryNth, Until: f.Until, For: fakeaz.Duration(f.For)}
	return c.admin(ctx, http.MethodPost, "/faults", j, nil)
}

// ClearFaults removes every fault and releases the requests held by Hang faults.
func (c *Container) ClearFaults(ctx context.Context) error {
	return c.admin(ctx, http.MethodDelete, "/faults", nil, nil)
}

// Stats returns the request counters per endpoint and app.
func (c *Container) Stats(ctx context.Context) (fakeaz.Stats, error) {
	var got fakeaz.Stats
	err := c.admin(ctx, http.MethodGet, "/stats", nil, &got)
	return got, err
}

// ResetStats zeroes the request counters.
func (c *Container) ResetStats(ctx context.Context) error {
	return c.admin(ctx, http.MethodDelete, "/stats", nil, nil)
}

// SetClockOffset shifts iat and exp of the tokens minted from now on by d.
func (c *Container) SetClockOffset(ctx context.Context, d time.Duration) error {
	return c.admin(ctx, http.MethodPut, "/clock", map[string]fakeaz.Duration{"offset": fakeaz.Duration(d)}, nil)
}
