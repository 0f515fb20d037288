// Package adminclient drives a fakeaz admin API over HTTP: apps, clients, tokens, keys, faults,
// stats and the clock, wherever fakeaz runs (a process, a container, a pod).
//
//	c := adminclient.New("http://fakeaz.bench.svc:9080/admin", os.Getenv("MCASPEC_ADMIN_TOKEN"), nil)
//	tok, err := c.MintToken(ctx, appID, adminclient.TokenRequest{})
//
// A fakeaz that listens on a non-loopback address requires its admin token (fakeaz.WithAdminToken,
// `mcaspec fakeaz --admin-token`): pass the same secret as Token.
package adminclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/internal/excerpt"
)

const (
	// DefaultTimeout bounds one admin API call of a client made by New with a nil *http.Client.
	DefaultTimeout = 10 * time.Second
	// DefaultClientID is the clientId of tokens minted by MintToken when the request has none.
	DefaultClientID = "mcaspec-test-client"
	// maxAnswerBytes bounds an admin API answer.
	maxAnswerBytes = 4 << 20
)

// ErrAdmin is wrapped by every error the admin API answered (see AdminError).
var ErrAdmin = errors.New("fakeaz admin API error")

// Client calls one fakeaz admin API. Its fields may be set directly; the zero HTTP uses
// http.DefaultClient. It is safe for concurrent use once its fields are no longer changed.
type Client struct {
	// URL is the base of the admin API, e.g. http://127.0.0.1:9080/admin (fakeaz.Server.AdminURL).
	URL string
	// Token, when not empty, is sent as "Authorization: Bearer <Token>".
	Token string
	// HTTP sends the requests (nil: http.DefaultClient).
	HTTP *http.Client
}

// New returns a Client for the admin API at adminURL (e.g. http://host:9080/admin). token, when
// not empty, is sent as a bearer token. A nil hc is a client without proxy and with
// DefaultTimeout.
func New(adminURL, token string, hc *http.Client) *Client {
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.Proxy = nil
		hc = &http.Client{Transport: tr, Timeout: DefaultTimeout}
	}
	return &Client{URL: strings.TrimRight(adminURL, "/"), Token: token, HTTP: hc}
}

// TokenRequest says what MintToken puts in the tokens (the body of POST
// /admin/apps/{appId}/tokens). The zero value mints an anonymous pair for DefaultClientID.
type TokenRequest = fakeaz.TokenRequest

// AdminError is an error answer of the admin API; it wraps ErrAdmin and, when the description
// names one, the fakeaz error behind it (errors.Is(err, fakeaz.ErrUnknownApp) works).
type AdminError struct {
	Method, Path string
	Status       int
	Code         string // "invalid_request", "not_found", "conflict", "unauthorized", ...
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

// Do sends one admin API request to c.URL+path (path starts with "/"); in (if not nil) is sent
// as JSON, out (if not nil) receives the JSON answer. A non-2xx answer is an *AdminError.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("fakeaz admin %s %s: encoding the body: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.URL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("fakeaz admin %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("fakeaz admin %s %s: %w (is fakeaz running at %s?)", method, path, err, c.URL)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes))
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
			e.Code, e.Description = "unexpected_answer", excerpt.Of(b, 200)
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("fakeaz admin %s %s: decoding the answer %q: %w", method, path, excerpt.Of(b, 200), err)
		}
	}
	return nil
}

func appPath(appID string) string { return "/apps/" + url.PathEscape(appID) }

// AddApp registers an app (a generated id when a.ID is empty) and returns it as stored.
func (c *Client) AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error) {
	var got fakeaz.App
	err := c.Do(ctx, http.MethodPost, "/apps", a, &got)
	return got, err
}

// App returns a registered app.
func (c *Client) App(ctx context.Context, appID string) (fakeaz.App, error) {
	var got fakeaz.App
	err := c.Do(ctx, http.MethodGet, appPath(appID), nil, &got)
	return got, err
}

// RemoveApp forgets an app, its keys, clients and pending codes.
func (c *Client) RemoveApp(ctx context.Context, appID string) error {
	return c.Do(ctx, http.MethodDelete, appPath(appID), nil, nil)
}

// Clients returns the devices registered for an app.
func (c *Client) Clients(ctx context.Context, appID string) ([]fakeaz.Client, error) {
	var got []fakeaz.Client
	err := c.Do(ctx, http.MethodGet, appPath(appID)+"/clients", nil, &got)
	return got, err
}

// RevokeClient revokes one device's credentials (see fakeaz.Server.RevokeClient).
func (c *Client) RevokeClient(ctx context.Context, appID, clientID string) error {
	return c.Do(ctx, http.MethodPost, appPath(appID)+"/clients/"+url.PathEscape(clientID)+"/revoke", nil, nil)
}

// MintToken mints an access and id token for an app exactly as the AZ would (current key, iss,
// clock offset). The zero TokenRequest is an anonymous client, DefaultClientID.
func (c *Client) MintToken(ctx context.Context, appID string, r TokenRequest) (fakeaz.TokenResponse, error) {
	if r.ClientID == "" {
		r.ClientID = DefaultClientID
	}
	var got fakeaz.TokenResponse
	err := c.Do(ctx, http.MethodPost, appPath(appID)+"/tokens", r, &got)
	return got, err
}

// Keys returns the kid of the app's current signing key and its JWKS.
func (c *Client) Keys(ctx context.Context, appID string) (current string, keys []fakeaz.JWK, err error) {
	var got struct {
		Current string       `json:"current"`
		Keys    []fakeaz.JWK `json:"keys"`
	}
	err = c.Do(ctx, http.MethodGet, appPath(appID)+"/keys", nil, &got)
	return got.Current, got.Keys, err
}

// RotateKey gives the app a new signing key; the old one stays in the JWKS for overlap.
func (c *Client) RotateKey(ctx context.Context, appID string, overlap time.Duration) error {
	return c.Do(ctx, http.MethodPost, appPath(appID)+"/rotate-key", map[string]fakeaz.Duration{"overlap": fakeaz.Duration(overlap)}, nil)
}

// SetFault activates a fault (see fakeaz.FaultSpec): an error status, a garbage or empty body,
// a delay or a hang on one endpoint (or all), for one app (or all).
func (c *Client) SetFault(ctx context.Context, f fakeaz.FaultSpec) error {
	return c.Do(ctx, http.MethodPost, "/faults", f, nil) // FaultSpec marshals in the admin API's form
}

// ClearFaults removes every fault and releases the requests held by Hang faults.
func (c *Client) ClearFaults(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, "/faults", nil, nil)
}

// Stats returns the request counters per endpoint and app.
func (c *Client) Stats(ctx context.Context) (fakeaz.Stats, error) {
	var got fakeaz.Stats
	err := c.Do(ctx, http.MethodGet, "/stats", nil, &got)
	return got, err
}

// ResetStats zeroes the request counters.
func (c *Client) ResetStats(ctx context.Context) error {
	return c.Do(ctx, http.MethodDelete, "/stats", nil, nil)
}

// SetClockOffset shifts iat and exp of the tokens minted from now on by d.
func (c *Client) SetClockOffset(ctx context.Context, d time.Duration) error {
	return c.Do(ctx, http.MethodPut, "/clock", map[string]fakeaz.Duration{"offset": fakeaz.Duration(d)}, nil)
}
