package fakedevice

import (
	"context"
	"crypto/rsa"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/internal/excerpt"
)

// serial runs one step of the flow under the flow lock (steps never overlap)
// and reports its error as an OpError of op.
func (d *Device) serial(ctx context.Context, op string, step func(context.Context) error) error {
	d.flow.Lock()
	defer d.flow.Unlock()
	return opErr(op, step(ctx))
}

func (d *Device) addTime(kind *time.Duration, since time.Time) {
	el := time.Since(since)
	d.mu.Lock()
	*kind += el
	d.mu.Unlock()
}

// sendOK sends req without following redirects and returns the body of a
// 2xx answer; any other status is an httpError.
func (d *Device) sendOK(req *http.Request) ([]byte, error) {
	resp, body, err := d.send(d.noFollow, req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, httpError(req, resp, body)
	}
	return body, nil
}

// send sends req with X-WL-Session, reads at most maxBody of the body and
// accounts the wait.
func (d *Device) send(c *http.Client, req *http.Request) (*http.Response, []byte, error) {
	req.Header.Set("X-WL-Session", d.session)
	start := time.Now()
	d.mu.Lock()
	d.timings.Requests++
	d.mu.Unlock()
	defer d.addTime(&d.timings.Wait, start)
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, nil, fmt.Errorf("%s %s: reading body: %w", req.Method, req.URL, err)
	}
	return resp, body, nil
}

func httpError(req *http.Request, resp *http.Response, body []byte) *HTTPError {
	return &HTTPError{Method: req.Method, URL: req.URL.String(), Status: resp.StatusCode,
		WWWAuthenticate: resp.Header.Get("WWW-Authenticate"), Body: excerpt.Of(body, bodyExcerpt)}
}

// postForm posts form to path under the device's base URL, with proof (if
// not "") in X-WL-Authenticate, and returns the body of a 2xx answer (see
// sendOK).
func (d *Device) postForm(ctx context.Context, path string, form url.Values, proof string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if proof != "" {
		req.Header.Set("X-WL-Authenticate", proof)
	}
	return d.sendOK(req)
}

// sign signs payload with key as the device's SDK does (quirks) and
// accounts the time in Timings.Sign.
func (d *Device) sign(key *rsa.PrivateKey, payload any) (string, error) {
	defer d.addTime(&d.timings.Sign, time.Now())
	return d.quirks.sign(key, payload)
}
