package google

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
)

// TokenKind says which kind of Google token is verified.
type TokenKind int

const (
	// IDToken: a signed JWT, the iOS SDK's answer {"idToken": ...}.
	IDToken TokenKind = iota
	// AccessToken: an opaque token, the Android SDK's answer {"accessToken": ...}.
	AccessToken
)

// String returns the tokeninfo parameter name of the kind.
func (k TokenKind) String() string {
	switch k {
	case IDToken:
		return "id_token"
	case AccessToken:
		return "access_token"
	}
	return fmt.Sprintf("TokenKind(%d)", int(k))
}

// Verify checks a Google token as the AZ does: GET
// {tokenInfoURL}?id_token=T (or access_token=T), which checks signature,
// expiry and revocation, then checks that aud is clientID (and, for id
// tokens, that iss is Google). tokenInfoURL is the full endpoint
// (Server.TokenInfoURL(), or "https://oauth2.googleapis.com/tokeninfo");
// hc nil means http.DefaultClient. Expiry is left to tokeninfo, whose clock
// is the one that counts.
//
// The Identity has UserName = sub, DisplayName = name (falling back to the
// email, then sub: access-token info carries no name) and attribute "email"
// when present. Errors wrap idp.ErrInvalidToken (tokeninfo refused the
// token, wrong aud or iss), idp.ErrUnavailable (no answer, 5xx, ctx ended)
// or idp.ErrProtocol (other 4xx, malformed answer).
func Verify(ctx context.Context, hc *http.Client, tokenInfoURL, clientID, token string, kind TokenKind) (*idp.Identity, error) {
	if clientID == "" {
		return nil, errors.New("google verify: empty client id; configure the Google realm's client id")
	}
	if kind != IDToken && kind != AccessToken {
		return nil, fmt.Errorf("google verify: unknown token kind %v", kind)
	}
	if token == "" {
		return nil, fmt.Errorf("%w: google: empty %s", idp.ErrInvalidToken, kind)
	}
	u, err := url.Parse(tokenInfoURL)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("google verify: bad tokeninfo URL %q", tokenInfoURL)
	}
	q := u.Query()
	q.Set(kind.String(), token)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("google verify: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	status, body, err := sim.Call(ctx, hc, req, "google tokeninfo")
	if err != nil {
		return nil, err
	}
	switch {
	case status == http.StatusBadRequest || status == http.StatusUnauthorized:
		var e struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.Unmarshal(body, &e)
		msg := e.Description
		if msg == "" {
			msg = sim.Excerpt(body)
		}
		return nil, fmt.Errorf("%w: google tokeninfo refused the %s: %s", idp.ErrInvalidToken, kind, msg)
	case status != http.StatusOK:
		return nil, fmt.Errorf("%w: google tokeninfo: HTTP %d: %s", idp.ErrProtocol, status, sim.Excerpt(body))
	}
	var info map[string]any
	if err := json.Unmarshal(body, &info); err != nil {
		return nil, fmt.Errorf("%w: google tokeninfo: not a JSON object: %s", idp.ErrProtocol, sim.Excerpt(body))
	}
	str := func(k string) string { s, _ := info[k].(string); return s }
	if aud := str("aud"); aud != clientID {
		return nil, fmt.Errorf("%w: google: %s was issued for client %q, not %q", idp.ErrInvalidToken, kind, aud, clientID)
	}
	if kind == IDToken {
		if iss := str("iss"); iss != Issuer && iss != "accounts.google.com" {
			return nil, fmt.Errorf("%w: google: id token issuer %q is not Google", idp.ErrInvalidToken, iss)
		}
	}
	sub := str("sub")
	if sub == "" {
		return nil, fmt.Errorf("%w: google tokeninfo: no sub in %s", idp.ErrProtocol, sim.Excerpt(body))
	}
	id := &idp.Identity{UserName: sub, DisplayName: str("name")}
	if email := str("email"); email != "" {
		id.Attributes = map[string]any{"email": email}
		if id.DisplayName == "" {
			id.DisplayName = email
		}
	}
	if id.DisplayName == "" {
		id.DisplayName = sub
	}
	return id, nil
}
