package fakedevice

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/internal/excerpt"
)

// Authorize runs the authorization step: GET authorization, answering
// WL-Composite-Challenge answers with the configured handlers (at most
// MaxChallengeRounds answers), until the redirect whose Location carries
// the code, as the platform's SDK reads them (see isCompositeChallenge,
// isRedirect, queryParam). A wl_result in the redirect fires the handlers'
// HandleSuccess / HandleFailure (see WLResult).
//
// On iOS a 400 answer wipes the registration and registers again, once per
// device until Logout (Source/mca/internal/AuthorizationProcessManager.swift
// lines 149-158); a second 400 is ErrNoCallback, since the real SDK then
// never calls the app back.
func (d *Device) Authorize(ctx context.Context) error {
	return d.serial(ctx, OpAuthorize, d.authorize)
}

func (d *Device) authorize(ctx context.Context) error {
	clientID := d.ClientID()
	if clientID == "" {
		return ErrNotRegistered
	}
	u := d.base + "/authorization?response_type=code&client_id=" + url.QueryEscape(clientID) +
		"&redirect_uri=" + url.QueryEscape(RedirectURI)
	answer := ""
	for round := 0; ; round++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return err
		}
		if answer != "" {
			req.Header.Set("Authorization", answer)
		}
		resp, body, err := d.send(d.noFollow, req)
		if err != nil {
			return err
		}
		switch {
		case d.sdk.reregistersOn400 && resp.StatusCode == http.StatusBadRequest:
			d.mu.Lock()
			d.authFailures++
			n := d.authFailures
			d.mu.Unlock()
			if n >= 2 {
				return fmt.Errorf("%w: second 400 from the authorization endpoint (the iOS SDK re-registers on the first and then never calls back): %w",
					ErrNoCallback, httpError(req, resp, body))
			}
			d.forgetRegistration()
			if err := d.register(ctx); err != nil {
				return opErr(OpRegister, err)
			}
			return d.authorize(ctx)
		case d.sdk.isRedirect(resp.StatusCode):
			return d.takeCode(ctx, resp.Header.Values("Location"))
		case d.sdk.isCompositeChallenge(resp.StatusCode, resp.Header.Values("WWW-Authenticate")):
			if round >= d.cfg.MaxChallengeRounds {
				return fmt.Errorf("%w: still challenged after %d answers (raise MaxChallengeRounds if the flow really is that long); last challenge: %q",
					ErrTooManyRounds, round, excerpt.Of(body, bodyExcerpt))
			}
			challenges, err := ParseChallenge(body)
			if err != nil {
				return err
			}
			if answer, err = d.answer(ctx, challenges); err != nil {
				return err
			}
		case resp.StatusCode >= 200 && resp.StatusCode <= 399:
			// Both SDKs then look for a Location header and fail without one.
			return fmt.Errorf("%w: authorization answered %d, not a redirect the %s SDK follows (Location %q)",
				ErrBadResponse, resp.StatusCode, d.cfg.Platform, resp.Header.Get("Location"))
		default:
			return httpError(req, resp, body)
		}
	}
}

// forgetRegistration wipes what the iOS SDK wipes from its keychain on a 400
// (clientId, keys, certificate, tokens).
func (d *Device) forgetRegistration() {
	d.mu.Lock()
	d.key, d.clientID, d.cert = nil, "", nil
	d.code, d.tokens, d.user = "", Tokens{}, nil
	d.mu.Unlock()
}

// takeCode reads the redirect Location the way the platform's SDK does:
// wl_result first (AuthorizationRequestManager processRedirectResponse:
// Android .java lines 350-388, iOS .swift lines 346-389), then code
// (AuthorizationProcessManager extractGrantCode: Android .java lines
// 301-329, iOS .swift lines 275-293), with queryParam's splitting and
// decoding.
func (d *Device) takeCode(ctx context.Context, locations []string) error {
	if len(locations) == 0 {
		return fmt.Errorf("%w: redirect without a Location header", ErrBadResponse)
	}
	loc := locations[0] // Android: the first value; iOS reads a single value too
	u, err := url.Parse(loc)
	if err != nil || (d.sdk.absoluteLocation && !u.IsAbs()) {
		// Android: new URL(location) throws MalformedURLException on a relative URL.
		return fmt.Errorf("%w: redirect Location %q is not a URL the %s SDK parses", ErrBadResponse, loc, d.cfg.Platform)
	}
	query := u.RawQuery
	res, err := d.readWLResult(ctx, query)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.wlResult, d.result = "", res
	if res != nil {
		d.wlResult = res.Raw
	}
	d.mu.Unlock()
	if res != nil && res.Failure != nil && d.sdk.failureStops {
		// Android calls the failure handlers and aborts (line 372-376).
		return fmt.Errorf("%w: %s", ErrAuthFailure, res.Raw)
	}
	name := "code"
	code, ok, err := d.sdk.queryParam(query, name)
	if err != nil {
		return fmt.Errorf("%w: redirect Location %q: %w", ErrBadResponse, loc, err)
	}
	if !ok || code == "" {
		if res != nil && res.Failure != nil {
			// iOS calls the failure handlers, then still looks for a code.
			return fmt.Errorf("%w (and no code in the redirect): %s", ErrAuthFailure, res.Raw)
		}
		return fmt.Errorf("%w: redirect Location %q carries no code the %s SDK extracts", ErrBadResponse, loc, d.cfg.Platform)
	}
	d.mu.Lock()
	d.code = code
	d.mu.Unlock()
	return nil
}

// ParseChallenge parses the body of a WL-Composite-Challenge 401, exactly
// "/*-secure-\n{"challenges": {"<realm>": {...}}}*/" with nothing before or
// after (both SDKs compare prefix and suffix without trimming:
// Utils.extractSecureJson, Android .java lines 77-95, iOS .swift lines
// 112-124), into realm → challenge. Errors wrap ErrBadChallenge.
func ParseChallenge(body []byte) (map[string]json.RawMessage, error) {
	const prefix, suffix = "/*-secure-\n", "*/"
	if !bytes.HasPrefix(body, []byte(prefix)) || !bytes.HasSuffix(body, []byte(suffix)) || len(body) < len(prefix)+len(suffix) {
		return nil, fmt.Errorf(`%w: body is not exactly "/*-secure-\n ... */": %q`, ErrBadChallenge, excerpt.Of(body, bodyExcerpt))
	}
	var c struct {
		Challenges map[string]json.RawMessage `json:"challenges"`
	}
	if err := json.Unmarshal(body[len(prefix):len(body)-len(suffix)], &c); err != nil {
		return nil, fmt.Errorf("%w: not JSON {\"challenges\": {...}}: %w: %q", ErrBadChallenge, err, excerpt.Of(body, bodyExcerpt))
	}
	if len(c.Challenges) == 0 {
		return nil, fmt.Errorf("%w: no challenges in %q", ErrBadChallenge, excerpt.Of(body, bodyExcerpt))
	}
	return c.Challenges, nil
}

// answer asks the handlers and builds `Bearer {"<realm>": <answer>, ...}`.
func (d *Device) answer(ctx context.Context, challenges map[string]json.RawMessage) (string, error) {
	answers := make(map[string]json.RawMessage, len(challenges))
	for realm, ch := range challenges {
		h := d.handler(realm)
		if h == nil {
			return "", fmt.Errorf("%w %q (configure Config.Handlers[%q]); challenge: %s", ErrNoHandler, realm, realm, excerpt.Of(ch, bodyExcerpt))
		}
		a, err := h.Answer(ctx, realm, ch)
		if err != nil {
			return "", fmt.Errorf("%w: realm %q: %w", ErrHandler, realm, err)
		}
		if !json.Valid(a) {
			return "", fmt.Errorf("%w: realm %q: answer is not JSON: %q", ErrHandler, realm, excerpt.Of(a, bodyExcerpt))
		}
		answers[realm] = a
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(answers); err != nil {
		return "", fmt.Errorf("%w: %w", ErrHandler, err)
	}
	return "Bearer " + strings.TrimSpace(buf.String()), nil
}

func (d *Device) handler(realm string) Handler {
	if h := d.cfg.Handlers[realm]; h != nil {
		return h
	}
	return d.cfg.Fallback
}
