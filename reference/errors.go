package reference

import (
	"errors"
	"net/http"
)

// OAuth 2.0 error codes used in responses (RFC 6750 §3.1, RFC 6749 §4.1.2.1).
const (
	CodeInvalidRequest = "invalid_request"
	CodeInvalidToken   = "invalid_token"
	// CodeUnavailable is sent with 503 when the public key cannot be obtained.
	CodeUnavailable = "temporarily_unavailable"
)

// Realm is the realm of every WWW-Authenticate challenge the validator sends.
const Realm = "imfAuthentication"

// Sentinel causes. Every *Error wraps exactly one of them, so callers can use
// errors.Is(err, reference.ErrInvalidToken) as well as errors.As(err, &*Error).
var (
	// ErrNoCredentials: the request carries no Authorization header, or one
	// with a scheme other than Bearer (401 with a bare challenge).
	ErrNoCredentials = errors.New("no bearer credentials")
	// ErrInvalidRequest: the Authorization header or the request is malformed (400).
	ErrInvalidRequest = errors.New("malformed request")
	// ErrInvalidToken: a token is malformed, expired, for another audience,
	// badly signed... (401 invalid_token).
	ErrInvalidToken = errors.New("invalid token")
	// ErrUnavailable: the AZ public key could not be obtained (503).
	ErrUnavailable = errors.New("authorization server key unavailable")
)

// Error is the error Validate returns. Status is the HTTP status the
// middleware answers with; Code is the OAuth error code ("" for a bare
// challenge); Description is safe to show to the client.
type Error struct {
	Status      int
	Code        string
	Description string
	// Err is one of the Err* sentinels, possibly wrapping a lower-level cause.
	Err error
}

func (e *Error) Error() string {
	s := "reference: " + e.Description
	if e.Code != "" {
		s = "reference: " + e.Code + ": " + e.Description
	}
	return s
}

// Unwrap returns the sentinel cause.
func (e *Error) Unwrap() error { return e.Err }

func errNoCredentials(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Description: desc, Err: ErrNoCredentials}
}

func errRequest(desc string) *Error {
	return &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: desc, Err: ErrInvalidRequest}
}

func errToken(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc, Err: ErrInvalidToken}
}

func errUnavailable(desc string, cause error) *Error {
	err := ErrUnavailable
	if cause != nil {
		err = &wrapped{ErrUnavailable, cause}
	}
	return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Description: desc, Err: err}
}

// wrapped joins a sentinel and its cause so that errors.Is finds both.
type wrapped struct{ sentinel, cause error }

func (w *wrapped) Error() string   { return w.sentinel.Error() + ": " + w.cause.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.sentinel, w.cause} }

// challenge returns the WWW-Authenticate value for e ("" for none).
func (e *Error) challenge() string {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusBadRequest:
		if e.Code == "" {
			return `Bearer realm="` + Realm + `"`
		}
		return `Bearer realm="` + Realm + `", error="` + e.Code + `"`
	}
	return ""
}
