package fakedevice

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mcaspec/mcaspec/internal/excerpt"
)

// wl_result is the redirect parameter through which the AZ tells the SDK
// which realms succeeded or failed:
//
//	wl_result={"WL-Authentication-Success": {"<realm>": {...}}}
//	wl_result={"WL-Authentication-Failure": {"<realm>": {...}}}
//
// Both SDKs parse it before looking for the code and pass each realm's
// object to that realm's challenge handler (handleSuccess / handleFailure).
// They disagree on a failure: Android calls the failure handlers and fails
// the authorization (AuthorizationRequestManager.java lines 369-376); iOS
// calls them and then still looks for a code (AuthorizationRequestManager.swift
// lines 378-388), failing only when there is none. A Device does what its
// platform's SDK does.

// Keys of wl_result and the parameter's name.
const (
	WLResultParam   = "wl_result"
	WLResultSuccess = "WL-Authentication-Success"
	WLResultFailure = "WL-Authentication-Failure"
)

// WLResult is a decoded wl_result: realm → the object the AZ sent for it.
type WLResult struct {
	Success map[string]json.RawMessage
	Failure map[string]json.RawMessage
	// Raw is the decoded parameter value (JSON text).
	Raw string
}

// SuccessHandler is implemented by a Handler that wants the realm's
// WL-Authentication-Success object (the SDK's handleSuccess).
type SuccessHandler interface {
	HandleSuccess(ctx context.Context, realm string, data json.RawMessage)
}

// FailureHandler is implemented by a Handler that wants the realm's
// WL-Authentication-Failure object (the SDK's handleFailure).
type FailureHandler interface {
	HandleFailure(ctx context.Context, realm string, data json.RawMessage)
}

// Observed wraps a Handler with success and failure callbacks (either may be nil).
type Observed struct {
	Handler
	OnSuccess, OnFailure func(ctx context.Context, realm string, data json.RawMessage)
}

// HandleSuccess implements SuccessHandler.
func (o Observed) HandleSuccess(ctx context.Context, realm string, data json.RawMessage) {
	if o.OnSuccess != nil {
		o.OnSuccess(ctx, realm, data)
	}
}

// HandleFailure implements FailureHandler.
func (o Observed) HandleFailure(ctx context.Context, realm string, data json.RawMessage) {
	if o.OnFailure != nil {
		o.OnFailure(ctx, realm, data)
	}
}

// AuthResult returns the wl_result of the last authorization redirect
// (nil when it carried none).
func (d *Device) AuthResult() *WLResult {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.result
}

// readWLResult finds wl_result in a redirect's raw query as the platform's
// SDK does, decodes it and fires the handlers. A wl_result that is present
// but not a JSON object fails the authorization on both platforms (Android:
// new JSONObject throws; iOS: parseJsonStringtoDictionary throws into the
// completion handler). On Android a query that contains "wl_result"
// anywhere but yields no parameter fails too (new JSONObject(null)).
func (d *Device) readWLResult(ctx context.Context, query string) (*WLResult, error) {
	present := strings.Contains(query, WLResultParam)
	if d.sdk.wlResultAnyCase {
		present = strings.Contains(strings.ToLower(query), WLResultParam)
	}
	if !present {
		return nil, nil
	}
	v, ok, err := d.sdk.queryParam(query, WLResultParam)
	if err != nil {
		return nil, fmt.Errorf("%w: wl_result: %w", ErrBadResponse, err)
	}
	if !ok {
		if d.sdk.wlResultMentionFails {
			return nil, fmt.Errorf("%w: the redirect query mentions wl_result but holds no wl_result=<value> the Android SDK extracts: %q", ErrBadResponse, query)
		}
		return nil, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(v), &obj); err != nil {
		return nil, fmt.Errorf("%w: wl_result is not a JSON object: %w: %q", ErrBadResponse, err, excerpt.Of([]byte(v), bodyExcerpt))
	}
	res := &WLResult{Raw: v}
	for k, raw := range obj {
		var realms map[string]json.RawMessage
		if json.Unmarshal(raw, &realms) != nil {
			continue // the SDKs' optJSONObject / as? [String: Any] give nothing
		}
		switch {
		// Android reads the keys exactly (optJSONObject), iOS ignoring case.
		case k == WLResultFailure || d.sdk.wlResultAnyCase && strings.EqualFold(k, WLResultFailure):
			res.Failure = realms
		case k == WLResultSuccess || d.sdk.wlResultAnyCase && strings.EqualFold(k, WLResultSuccess):
			res.Success = realms
		}
	}
	// Android: failures first and only (it returns on a failure); iOS: both.
	for realm, data := range res.Failure {
		if h, ok := d.handler(realm).(FailureHandler); ok {
			h.HandleFailure(ctx, realm, data)
		}
	}
	if res.Failure != nil && d.sdk.failureStops {
		return res, nil
	}
	for realm, data := range res.Success {
		if h, ok := d.handler(realm).(SuccessHandler); ok {
			h.HandleSuccess(ctx, realm, data)
		}
	}
	return res, nil
}
