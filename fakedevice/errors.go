package fakedevice

import (
	"context"
	"errors"
	"fmt"
	"net"
)

// Sentinel errors. The errors the Device returns wrap one of them (or an
// *HTTPError) inside an *OpError; test them with errors.Is / errors.As.
var (
	// ErrConfig: the Config is unusable (missing server URL, app id, bad key size...).
	ErrConfig = errors.New("fakedevice: bad config")
	// ErrNotRegistered: an operation needs a clientId; call Register (or Login) first.
	ErrNotRegistered = errors.New("fakedevice: device is not registered (call Register or Login first)")
	// ErrNoCode: the authorization step has not produced a code; call Authorize first.
	ErrNoCode = errors.New("fakedevice: no authorization code (call Authorize first)")
	// ErrNoTokens: no tokens yet; call ObtainTokens (or Login) first.
	ErrNoTokens = errors.New("fakedevice: no tokens (call Login first)")
	// ErrBadResponse: the server answered 2xx/3xx with something the SDK cannot use.
	ErrBadResponse = errors.New("fakedevice: unusable server response")
	// ErrBadChallenge: a 401 WL-Composite-Challenge whose body is not
	// "/*-secure-\n{"challenges": {...}}*/".
	ErrBadChallenge = errors.New("fakedevice: malformed challenge")
	// ErrNoHandler: the server challenged a realm no handler is configured for.
	ErrNoHandler = errors.New("fakedevice: no challenge handler for realm")
	// ErrTooManyRounds: the challenge dance did not end within MaxChallengeRounds.
	ErrTooManyRounds = errors.New("fakedevice: too many challenge rounds")
	// ErrHandler: a challenge handler failed.
	ErrHandler = errors.New("fakedevice: challenge handler failed")
	// ErrIDToken: the id token's payload could not be decoded.
	ErrIDToken = errors.New("fakedevice: cannot decode id token")
	// ErrAuthFailure: the authorization redirect's wl_result reported
	// WL-Authentication-Failure (the realm's FailureHandler has been called).
	ErrAuthFailure = errors.New("fakedevice: the AZ reported WL-Authentication-Failure")
	// ErrCertificate: the certificate issued at registration fails the SDKs'
	// check (not the device's public key; on Android, not valid at now+5m).
	ErrCertificate = errors.New("fakedevice: issued certificate refused")
	// ErrNoCallback: the real SDK would never complete this operation (iOS
	// after a second 400 from the authorization endpoint).
	ErrNoCallback = errors.New("fakedevice: the real SDK would never call back")
)

// HTTPError is an unexpected HTTP status from the server.
type HTTPError struct {
	Method, URL string
	Status      int
	// WWWAuthenticate is the response's WWW-Authenticate header, if any.
	WWWAuthenticate string
	// Body is an excerpt of the response body (at most bodyExcerpt bytes).
	Body string
}

const bodyExcerpt = 512

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s %s: unexpected status %d", e.Method, e.URL, e.Status)
	if e.WWWAuthenticate != "" {
		s += fmt.Sprintf(" (WWW-Authenticate: %s)", e.WWWAuthenticate)
	}
	if e.Body != "" {
		s += fmt.Sprintf(": %q", e.Body)
	}
	return s
}

// OpError says which step of the SDK flow failed.
type OpError struct {
	// Op is one of the Op* constants.
	Op  string
	Err error
}

// Steps of the flow, as reported in OpError.Op and in fleet error kinds.
const (
	OpRegister  = "register"
	OpAuthorize = "authorize"
	OpToken     = "token"
	OpLogout    = "logout"
	OpCall      = "call"
	OpThen      = "then"
)

func (e *OpError) Error() string { return "fakedevice: " + e.Op + ": " + e.Err.Error() }
func (e *OpError) Unwrap() error { return e.Err }

func opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Err: err}
}

// ErrorKind classifies an error into a short stable label such as
// "authorize/http-500", "register/timeout" or "authorize/no-handler". Fleet
// mode counts errors by kind.
func ErrorKind(err error) string {
	if err == nil {
		return ""
	}
	op := "other"
	var oe *OpError
	if errors.As(err, &oe) {
		op = oe.Op
	}
	return op + "/" + errorCause(err)
}

// errorCause is the cause half of ErrorKind: the first that matches of an
// HTTP status, the sentinels in order, a network error, a bad config.
func errorCause(err error) string {
	var he *HTTPError
	if errors.As(err, &he) {
		return fmt.Sprintf("http-%d", he.Status)
	}
	for _, c := range [...]struct {
		err   error
		cause string
	}{
		{context.DeadlineExceeded, "timeout"}, {context.Canceled, "canceled"},
		{ErrNoHandler, "no-handler"}, {ErrTooManyRounds, "too-many-rounds"},
		{ErrBadChallenge, "bad-challenge"}, {ErrHandler, "handler"},
		{ErrBadResponse, "bad-response"}, {ErrIDToken, "id-token"},
		{ErrAuthFailure, "auth-failure"}, {ErrCertificate, "certificate"},
		{ErrNoCallback, "no-callback"},
	} {
		if errors.Is(err, c.err) {
			return c.cause
		}
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.As(err, &ne):
		return "network"
	case errors.Is(err, ErrConfig):
		return "config"
	}
	return "other"
}
