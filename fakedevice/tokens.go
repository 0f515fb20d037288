package fakedevice

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/excerpt"
)

// ObtainTokens redeems the code from Authorize at the token endpoint, with
// an X-WL-Authenticate proof signed by the device key, and stores the tokens.
//
// Both SDKs need access_token and id_token (Android getString throws; iOS
// saves nothing and reports success, so its retried request goes out with
// the old tokens): without either, ObtainTokens fails with ErrBadResponse
// and keeps the previous tokens. The SDKs never read expires_in; it is
// kept in Tokens for ProactiveRefresh.
//
// Then the id token's payload is decoded for imf.user (UserIdentity), as
// the SDKs do (Android AuthorizationProcessManager.java lines 384-409, iOS
// .swift lines 225-254). With Quirks.SDKIDTokenDecoding a payload holding
// '-' or '_' fails to decode: on Android ObtainTokens then returns an error
// wrapping ErrIDToken although the tokens were stored (the authorization
// fails, the next request uses them); on iOS only UserIdentity is lost.
func (d *Device) ObtainTokens(ctx context.Context) error {
	return d.serial(ctx, OpToken, d.obtainTokens)
}

func (d *Device) obtainTokens(ctx context.Context) error {
	d.mu.Lock()
	clientID, key, code := d.clientID, d.key, d.code
	d.code = "" // codes are single-use
	d.mu.Unlock()
	if clientID == "" {
		return ErrNotRegistered
	}
	if code == "" {
		return ErrNoCode
	}
	proof, err := d.sign(key, struct {
		Code string `json:"code"`
	}{code})
	if err != nil {
		return fmt.Errorf("signing the code proof: %w", err)
	}
	body, err := d.postForm(ctx, "/token", url.Values{
		"code": {code}, "client_id": {clientID}, "grant_type": {"authorization_code"}, "redirect_uri": {RedirectURI},
	}, proof)
	if err != nil {
		return err
	}
	var out struct {
		Access    string          `json:"access_token"`
		ID        string          `json:"id_token"`
		TokenType string          `json:"token_type"`
		ExpiresIn json.RawMessage `json:"expires_in"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("%w: token answer is not JSON: %w: %q", ErrBadResponse, err, excerpt.Of(body, bodyExcerpt))
	}
	if out.Access == "" || out.ID == "" {
		return fmt.Errorf("%w: token answer lacks access_token or id_token (both SDKs need both): %q", ErrBadResponse, excerpt.Of(body, bodyExcerpt))
	}
	t := Tokens{Access: out.Access, ID: out.ID, TokenType: out.TokenType}
	if len(out.ExpiresIn) > 0 && string(out.ExpiresIn) != "null" {
		secs, err := strconv.ParseFloat(strings.Trim(string(out.ExpiresIn), `"`), 64)
		if err != nil || secs < 0 {
			return fmt.Errorf("%w: expires_in %s is not a number of seconds", ErrBadResponse, out.ExpiresIn)
		}
		t.ExpiresIn = time.Duration(secs * float64(time.Second))
		t.Expiry = d.cfg.Clock().Add(t.ExpiresIn)
	}
	user, uerr := d.userIdentity(out.ID)
	d.mu.Lock()
	d.tokens, d.user = t, user
	d.mu.Unlock()
	if uerr != nil && d.sdk.idTokenFailureFails {
		return fmt.Errorf("%w (the tokens were saved, the authorization failed as on Android): %w", ErrIDToken, uerr)
	}
	return nil
}

// userIdentity decodes imf.user from the id token's payload with the
// configured decoding. An error means the payload did not decode as JSON.
func (d *Device) userIdentity(idToken string) (map[string]any, error) {
	claims, err := d.decodeID(idToken)
	if err != nil {
		return nil, err
	}
	u, _ := claims.Raw["imf.user"].(map[string]any)
	return u, nil
}

func (d *Device) decodeID(idToken string) (IDClaims, error) {
	if d.quirks.SDKIDTokenDecoding {
		return DecodeIDTokenAs(d.cfg.Platform, idToken)
	}
	return DecodeIDToken(idToken, false)
}

// UserIdentity returns the imf.user object of the id token as the SDK
// saved it, or nil (anonymous, before ObtainTokens, or lost to the SDK's
// id-token decoding).
func (d *Device) UserIdentity() map[string]any {
	return guarded(d, func() map[string]any { return d.user })
}

// Login registers the device if it is not yet registered, then runs
// Authorize and ObtainTokens.
func (d *Device) Login(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return d.login(ctx)
}

func (d *Device) login(ctx context.Context) error {
	if d.ClientID() == "" {
		if err := d.register(ctx); err != nil {
			return opErr(OpRegister, err)
		}
	}
	if err := d.authorize(ctx); err != nil {
		return opErr(OpAuthorize, err)
	}
	return opErr(OpToken, d.obtainTokens(ctx))
}

// Logout forgets the tokens first, then calls logout?client_id=, as both
// SDKs do (MCAAuthorizationManager.logout: Android .java lines 332-335, iOS
// .swift lines 283-286). The registration is kept. A failing logout request
// is reported, but the tokens are gone either way.
func (d *Device) Logout(ctx context.Context) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	clientID := d.ClientID()
	d.mu.Lock()
	d.tokens, d.code, d.user, d.authFailures = Tokens{}, "", nil, 0
	d.mu.Unlock()
	if clientID == "" {
		return opErr(OpLogout, ErrNotRegistered)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/logout?client_id="+url.QueryEscape(clientID), nil)
	if err != nil {
		return opErr(OpLogout, err)
	}
	if _, err := d.sendOK(req); err != nil {
		return opErr(OpLogout, err)
	}
	return nil
}
