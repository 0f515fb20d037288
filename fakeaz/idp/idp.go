package idp

import (
	"errors"
	"time"
)

// Identity is the user identity an identity provider reports after a
// successful login. The AZ turns it into the id token's imf.user claim:
// {"id": UserName, "authBy": <realm>, "displayName": DisplayName, "attributes": Attributes}.
type Identity struct {
	UserName    string         `json:"userName"`
	DisplayName string         `json:"displayName"`
	Attributes  map[string]any `json:"attributes,omitempty"`
}

// Errors returned (wrapped) by the clients in the sub-packages. Test them
// with errors.Is.
var (
	// ErrInvalidToken: the provider says the token is expired, revoked,
	// issued for another app, or unknown. The device must get a new token.
	ErrInvalidToken = errors.New("idp: provider rejected the token")
	// ErrUnavailable: the provider could not be reached, answered with a 5xx
	// status, or did not answer before the context ended (the error then
	// also wraps context.DeadlineExceeded or context.Canceled). Retrying
	// later may help.
	ErrUnavailable = errors.New("idp: provider unavailable")
	// ErrProtocol: the provider refused the request itself (a 4xx other
	// than a token rejection, e.g. wrong app secret or unknown realm) or
	// answered outside its contract. This is a configuration or
	// implementation problem; retrying will not help.
	ErrProtocol = errors.New("idp: provider answered outside its contract")
)

// DefaultListen is the listen address of a simulator run from the command
// line: loopback, a free port.
const DefaultListen = "127.0.0.1:0"

// DefaultTimeout bounds a client call whose context has no deadline.
const DefaultTimeout = 10 * time.Second

// Fault makes a simulator misbehave on its provider routes, to test how the
// AZ copes with a provider that is down. Admin routes are never affected.
// The zero Fault means "behave".
type Fault struct {
	// Status, when non-zero, answers every provider request with this HTTP
	// status and a JSON error body (e.g. 500 or 503).
	Status int `json:"status,omitempty"`
	// Hang holds every provider request until the caller gives up or the
	// simulator is closed (a provider that accepts connections but never
	// answers).
	Hang bool `json:"hang,omitempty"`
}

// ErrAdminExposed is returned by a simulator's Start when its admin API (which issues tokens
// and changes users) would be reachable from the network without an admin token: give the
// simulator WithAdminToken, or listen on a loopback address.
var ErrAdminExposed = errors.New("idp: the admin API would be reachable from the network without an admin token")
