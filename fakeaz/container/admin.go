package container

import (
	"context"
	"errors"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
)

// TokenRequest says what MintToken puts in the tokens (see adminclient.TokenRequest).
type TokenRequest = adminclient.TokenRequest

// AdminError is an error answer of the admin API (see adminclient.AdminError); errors.Is with
// ErrAdmin and adminclient.ErrAdmin both hold for it.
type AdminError = adminclient.AdminError

// AdminClient returns a client of the container's admin API (adminclient.Client), with the
// container's HTTP client.
func (c *Container) AdminClient() *adminclient.Client {
	return &adminclient.Client{URL: c.baseURL() + "/admin", HTTP: c.hc}
}

// adminErr makes an adminclient error also wrap this package's ErrAdmin.
type adminErr struct{ error }

func (e adminErr) Unwrap() []error { return []error{e.error, ErrAdmin} }

func wrap(err error) error {
	if err == nil || errors.Is(err, ErrAdmin) || !errors.Is(err, adminclient.ErrAdmin) {
		return err
	}
	return adminErr{err}
}

// AddApp registers an app (a generated id when a.ID is empty) and returns it as stored.
func (c *Container) AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error) {
	got, err := c.AdminClient().AddApp(ctx, a)
	return got, wrap(err)
}

// App returns a registered app.
func (c *Container) App(ctx context.Context, appID string) (fakeaz.App, error) {
	got, err := c.AdminClient().App(ctx, appID)
	return got, wrap(err)
}

// RemoveApp forgets an app, its keys, clients and pending codes.
func (c *Container) RemoveApp(ctx context.Context, appID string) error {
	return wrap(c.AdminClient().RemoveApp(ctx, appID))
}

// Clients returns the devices registered for an app.
func (c *Container) Clients(ctx context.Context, appID string) ([]fakeaz.Client, error) {
	got, err := c.AdminClient().Clients(ctx, appID)
	return got, wrap(err)
}

// RevokeClient revokes one device's credentials (see fakeaz.Server.RevokeClient).
func (c *Container) RevokeClient(ctx context.Context, appID, clientID string) error {
	return wrap(c.AdminClient().RevokeClient(ctx, appID, clientID))
}

// MintToken mints an access and id token for an app exactly as the AZ would (current key, iss,
// clock offset). The zero TokenRequest is an anonymous client, DefaultClientID.
func (c *Container) MintToken(ctx context.Context, appID string, r TokenRequest) (fakeaz.TokenResponse, error) {
	if r.ClientID == "" {
		r.ClientID = DefaultClientID
	}
	got, err := c.AdminClient().MintToken(ctx, appID, r)
	return got, wrap(err)
}

// Keys returns the kid of the app's current signing key and its JWKS.
func (c *Container) Keys(ctx context.Context, appID string) (current string, keys []fakeaz.JWK, err error) {
	current, keys, err = c.AdminClient().Keys(ctx, appID)
	return current, keys, wrap(err)
}

// RotateKey gives the app a new signing key; the old one stays in the JWKS for overlap.
func (c *Container) RotateKey(ctx context.Context, appID string, overlap time.Duration) error {
	return wrap(c.AdminClient().RotateKey(ctx, appID, overlap))
}

// SetFault activates a fault (see fakeaz.FaultSpec): an error status, a garbage or empty body,
// a delay or a hang on one endpoint (or all), for one app (or all).
func (c *Container) SetFault(ctx context.Context, f fakeaz.FaultSpec) error {
	return wrap(c.AdminClient().SetFault(ctx, f))
}

// ClearFaults removes every fault and releases the requests held by Hang faults.
func (c *Container) ClearFaults(ctx context.Context) error {
	return wrap(c.AdminClient().ClearFaults(ctx))
}

// Stats returns the request counters per endpoint and app.
func (c *Container) Stats(ctx context.Context) (fakeaz.Stats, error) {
	got, err := c.AdminClient().Stats(ctx)
	return got, wrap(err)
}

// ResetStats zeroes the request counters.
func (c *Container) ResetStats(ctx context.Context) error {
	return wrap(c.AdminClient().ResetStats(ctx))
}

// SetClockOffset shifts iat and exp of the tokens minted from now on by d.
func (c *Container) SetClockOffset(ctx context.Context, d time.Duration) error {
	return wrap(c.AdminClient().SetClockOffset(ctx, d))
}
