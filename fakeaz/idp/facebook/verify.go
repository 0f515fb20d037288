package facebook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/internal/sim"
)

// Verify checks a Facebook user access token as the AZ does: GET
// {graphURL}/debug_token with the app token "<appID>|<appSecret>", which must
// say the token is valid and was issued for appID, then GET {graphURL}/me
// for the profile. graphURL is the Graph API base (Server.URL(), or
// "https://graph.facebook.com/v2.5" for the real one); hc nil means
// http.DefaultClient.
//
// The Identity has UserName = the Facebook user id, DisplayName = name and
// attribute "email" when Facebook gives one. Errors wrap idp.ErrInvalidToken
// (expired, revoked, unknown or wrong-app token), idp.ErrUnavailable (no
// answer, 5xx, ctx ended) or idp.ErrProtocol (app credentials refused,
// malformed answer).
func Verify(ctx context.Context, hc *http.Client, graphURL, appID, appSecret, accessToken string) (*idp.Identity, error) {
	if appID == "" || appSecret == "" {
		return nil, errors.New("facebook verify: empty app id or app secret; configure the Facebook realm's app")
	}
	if accessToken == "" {
		return nil, fmt.Errorf("%w: facebook: empty access token", idp.ErrInvalidToken)
	}
	base := strings.TrimRight(graphURL, "/")
	userID, err := debugToken(ctx, hc, base, appID, appSecret, accessToken)
	if err != nil {
		return nil, err
	}
	return me(ctx, hc, base, accessToken, userID)
}

// debugToken asks debug_token whether accessToken is a valid token of appID
// and returns its user id.
func debugToken(ctx context.Context, hc *http.Client, base, appID, appSecret, accessToken string) (string, error) {
	q := url.Values{"input_token": {accessToken}, "access_token": {appID + "|" + appSecret}}
	status, body, err := get(ctx, hc, base+"/debug_token?"+q.Encode(), "facebook debug_token")
	if err != nil {
		return "", err
	}
	if status != http.StatusOK {
		return "", fmt.Errorf("%w: facebook debug_token refused the request (HTTP %d: %s); check the app id and secret", idp.ErrProtocol, status, graphMessage(body))
	}
	var dbg struct {
		Data *struct {
			AppID   json.RawMessage `json:"app_id"`
			IsValid bool            `json:"is_valid"`
			UserID  json.RawMessage `json:"user_id"`
			Error   *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &dbg); err != nil || dbg.Data == nil {
		return "", fmt.Errorf("%w: facebook debug_token: want {\"data\": {...}}, got %s", idp.ErrProtocol, sim.Excerpt(body))
	}
	d := dbg.Data
	if !d.IsValid {
		msg := "token is not valid"
		if d.Error != nil && d.Error.Message != "" {
			msg = d.Error.Message
		}
		return "", fmt.Errorf("%w: facebook: %s", idp.ErrInvalidToken, msg)
	}
	if got := idString(d.AppID); got != appID {
		return "", fmt.Errorf("%w: facebook: token was issued for app %q, not %q", idp.ErrInvalidToken, got, appID)
	}
	userID := idString(d.UserID)
	if userID == "" {
		return "", fmt.Errorf("%w: facebook debug_token: valid token without user_id", idp.ErrProtocol)
	}
	return userID, nil
}

// me reads the profile of accessToken's user, which must be userID.
func me(ctx context.Context, hc *http.Client, base, accessToken, userID string) (*idp.Identity, error) {
	q := url.Values{"access_token": {accessToken}, "fields": {"id,name,email"}}
	status, body, err := get(ctx, hc, base+"/me?"+q.Encode(), "facebook me")
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		var e struct {
			Error struct {
				Code int    `json:"code"`
				Type string `json:"type"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && (e.Error.Code == 190 || e.Error.Code == 2500) {
			return nil, fmt.Errorf("%w: facebook me: %s", idp.ErrInvalidToken, graphMessage(body))
		}
		return nil, fmt.Errorf("%w: facebook me: HTTP %d: %s", idp.ErrProtocol, status, graphMessage(body))
	}
	var me struct {
		ID    json.RawMessage `json:"id"`
		Name  string          `json:"name"`
		Email string          `json:"email"`
	}
	if err := json.Unmarshal(body, &me); err != nil {
		return nil, fmt.Errorf("%w: facebook me: not a JSON profile: %s", idp.ErrProtocol, sim.Excerpt(body))
	}
	if got := idString(me.ID); got != userID {
		return nil, fmt.Errorf("%w: facebook me: profile id %q differs from debug_token user_id %q", idp.ErrProtocol, got, userID)
	}
	id := &idp.Identity{UserName: userID, DisplayName: me.Name}
	if me.Email != "" {
		id.Attributes = map[string]any{"email": me.Email}
	}
	return id, nil
}

func get(ctx context.Context, hc *http.Client, u, what string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("%s: bad graph URL: %w", what, err)
	}
	req.Header.Set("Accept", "application/json")
	return sim.Call(ctx, hc, req, what)
}

// idString accepts an id sent as a JSON string or number.
func idString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// graphMessage extracts error.message from a Graph error body.
func graphMessage(body []byte) string {
	var e struct {
		Error struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error.Message != "" {
		return e.Error.Message
	}
	return sim.Excerpt(body)
}
