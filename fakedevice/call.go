package fakedevice

import (
	"context"
	"io"
	"net/http"
	"time"
)

// AuthorizationHeader returns "Bearer <access> <id>" (without the id token
// when the server sent none), or "" before ObtainTokens.
func (d *Device) AuthorizationHeader() string {
	t := d.Tokens()
	if t.Access == "" {
		return ""
	}
	if t.ID == "" {
		return "Bearer " + t.Access
	}
	return "Bearer " + t.Access + " " + t.ID
}

// Call sends req to a protected resource as the platform's SDK does: with
// the Authorization header of the tokens the device holds (none before the
// first login, and expired ones as they are: the SDKs never read
// expires_in). When the answer is a challenge the SDK recognises
// (IsAuthChallenge), the device obtains authorization (registering first if
// it never did) and sends the request again, at most
// MaxReauthorizations(platform) times (Android 2, iOS 1); the last answer
// is returned as it is, challenge included. A request with a body is resent
// only if req.GetBody is set. With Config.ProactiveRefresh the device logs
// in before sending when it has no tokens or they have expired by Clock.
// The caller closes the returned response's body.
func (d *Device) Call(ctx context.Context, req *http.Request) (*http.Response, error) {
	if d.cfg.ProactiveRefresh {
		t := d.Tokens()
		if t.Access == "" || (!t.Expiry.IsZero() && !d.cfg.Clock().Before(t.Expiry)) {
			d.flow.Lock()
			err := d.login(ctx)
			d.flow.Unlock()
			if err != nil {
				return nil, err
			}
		}
	}
	canResend := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	for attempt := 0; ; attempt++ {
		resp, err := d.callOnce(ctx, req, attempt > 0)
		if err != nil || !canResend || attempt >= d.sdk.maxReauthorizations ||
			!d.sdk.isAuthChallenge(resp.StatusCode, resp.Header.Values("WWW-Authenticate")) {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		d.flow.Lock()
		err = d.login(ctx)
		d.flow.Unlock()
		if err != nil {
			return nil, err
		}
	}
}

// NamesIMFAuthentication reports whether resp is a challenge both real
// SDKs recognise (IsAuthChallengeForAll).
//
// Deprecated: use IsAuthChallenge with a platform, or IsAuthChallengeForAll.
func NamesIMFAuthentication(resp *http.Response) bool {
	return resp != nil && IsAuthChallengeForAll(resp.StatusCode, resp.Header.Values("WWW-Authenticate"))
}

func (d *Device) callOnce(ctx context.Context, req *http.Request, retry bool) (*http.Response, error) {
	r := req.Clone(ctx)
	if retry && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, opErr(OpCall, err)
		}
		r.Body = body
	}
	if h := d.AuthorizationHeader(); h != "" {
		r.Header.Set("Authorization", h)
	}
	d.mu.Lock()
	d.timings.Requests++
	d.mu.Unlock()
	start := time.Now()
	resp, err := d.follow.Do(r)
	d.addTime(&d.timings.Wait, start)
	if err != nil {
		return nil, opErr(OpCall, err)
	}
	return resp, nil
}
