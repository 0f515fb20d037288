package bench

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// RemoteAZ is an AZ the targets already trust, run by the user (`mcaspec
// fakeaz --key az.pem --public-url URL`), instead of the bench's own
// in-process fake AZ. The bench mints tokens locally with the AZ's shared
// signing key (no AZ round trip per token) and, when the admin API answers,
// registers what the scenarios need there (fresh apps for keyfetch and
// outage) and drives its faults (outage).
type RemoteAZ struct {
	// ServerURL is the AZ's serverUrl as the targets know it (MCA_SERVER_URL,
	// fakeaz's --public-url + /imf-authserver): the iss of minted tokens.
	ServerURL string
	// Key is the signing key the AZ uses for every app (fakeaz --key FILE).
	Key *rsa.PrivateKey
	// AppID is the app the targets serve (the tokens' aud).
	AppID string
	// AdminURL is the AZ's admin API (default: ServerURL's scheme and host +
	// /admin); AdminToken its secret (fakeaz --admin-token), sent as a bearer token.
	AdminURL, AdminToken string
	// ServiceClient is the client id the targets use for /service-call
	// (MCA_CLIENT_ID); default: the app's only service client, read through
	// the admin API. Without one, the propagation scenario is refused.
	ServiceClient string
}

// adminURL is the admin API's URL: AdminURL, else ServerURL's origin + /admin.
func (r *RemoteAZ) adminURL() (string, error) {
	if r.AdminURL != "" {
		return strings.TrimRight(r.AdminURL, "/"), nil
	}
	u, err := url.Parse(r.ServerURL)
	if err != nil {
		return "", err
	}
	return u.Scheme + "://" + u.Host + strings.TrimSuffix(fakeaz.AdminPath, "/"), nil
}

func (r *RemoteAZ) check() error {
	u, err := url.Parse(r.ServerURL)
	switch {
	case r.ServerURL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("%w: AZ URL %q: want the serverUrl the targets trust, e.g. http://az.example:9080%s", ErrConfig, r.ServerURL, fakeaz.BasePath)
	case r.Key == nil:
		return fmt.Errorf("%w: AZ %s: no signing key (the PEM file fakeaz was started with, --key)", ErrConfig, r.ServerURL)
	case r.AppID == "":
		return fmt.Errorf("%w: AZ %s: no app id (the app the targets serve, MCA_APP_ID)", ErrConfig, r.ServerURL)
	}
	if err := tokenfactory.CheckKeySize(r.Key.N.BitLen()); err != nil {
		return fmt.Errorf("%w: AZ key: %w", ErrConfig, err)
	}
	if _, err := r.adminURL(); err != nil {
		return fmt.Errorf("%w: AZ admin URL: %w", ErrConfig, err)
	}
	return nil
}

// AdminAPI is what the bench needs of a fakeaz admin API
// (fakeaz/adminclient.Client implements it).
type AdminAPI interface {
	AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error)
	App(ctx context.Context, appID string) (fakeaz.App, error)
	SetFault(ctx context.Context, f fakeaz.FaultSpec) error
	ClearFaults(ctx context.Context) error
	Stats(ctx context.Context) (fakeaz.Stats, error)
}

// azControl is what the scenarios need of the AZ the targets trust: the
// in-process fake AZ, or a RemoteAZ.
type azControl interface {
	// URL is the serverUrl (the tokens' iss).
	URL() string
	AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error)
	// Factory mints the tokens the AZ would issue for appID.
	Factory(appID string) (*tokenfactory.Factory, error)
	Stats(ctx context.Context) (fakeaz.Stats, error)
	SetFault(ctx context.Context, f fakeaz.FaultSpec) error
	ClearFaults(ctx context.Context) error
	// controlled says whether AddApp, Stats and faults work (nil) or why not.
	controlled() error
}

// localAZ is the bench's own in-process fake AZ.
type localAZ struct{ *fakeaz.Server }

func (l localAZ) AddApp(_ context.Context, a fakeaz.App) (fakeaz.App, error) {
	return l.Server.AddApp(a)
}
func (l localAZ) Stats(context.Context) (fakeaz.Stats, error) { return l.Server.Stats(), nil }
func (l localAZ) SetFault(_ context.Context, f fakeaz.FaultSpec) error {
	return l.Server.SetFault(f)
}
func (l localAZ) ClearFaults(context.Context) error { l.Server.ClearFaults(); return nil }
func (l localAZ) controlled() error                 { return nil }

// remoteAZ mints with the shared key and drives the admin API.
type remoteAZ struct {
	cfg      *RemoteAZ
	admin    AdminAPI
	adminErr error // why the admin API cannot be used (nil: it answered)
	factory  *tokenfactory.Factory
}

// ErrNoAZControl is wrapped when a scenario needs to drive the AZ (register
// apps, inject faults, read its counters) and cannot.
var ErrNoAZControl = errors.New("bench: this scenario needs an AZ the bench controls")

func (r *remoteAZ) URL() string { return strings.TrimRight(r.cfg.ServerURL, "/") }
func (r *remoteAZ) controlled() error {
	if r.adminErr != nil {
		return fmt.Errorf("%w: %w", ErrNoAZControl, r.adminErr)
	}
	return nil
}

// Factory: with a shared key (fakeaz --key) every app signs with it.
func (r *remoteAZ) Factory(string) (*tokenfactory.Factory, error) { return r.factory, nil }

func (r *remoteAZ) AddApp(ctx context.Context, a fakeaz.App) (fakeaz.App, error) {
	if err := r.controlled(); err != nil {
		return fakeaz.App{}, err
	}
	return r.admin.AddApp(ctx, a)
}

func (r *remoteAZ) Stats(ctx context.Context) (fakeaz.Stats, error) {
	if err := r.controlled(); err != nil {
		return fakeaz.Stats{}, err
	}
	return r.admin.Stats(ctx)
}

func (r *remoteAZ) SetFault(ctx context.Context, f fakeaz.FaultSpec) error {
	if err := r.controlled(); err != nil {
		return err
	}
	return r.admin.SetFault(ctx, f)
}

func (r *remoteAZ) ClearFaults(ctx context.Context) error {
	if err := r.controlled(); err != nil {
		return err
	}
	return r.admin.ClearFaults(ctx)
}

// openRemote checks the RemoteAZ: its public key endpoint must serve the
// public half of Key for AppID (else every token would be refused), and
// the admin API, when it answers, must know AppID.
func openRemote(ctx context.Context, cfg *RemoteAZ, admin AdminAPI, hc *http.Client) (*remoteAZ, fakeaz.App, error) {
	r := &remoteAZ{cfg: cfg, admin: admin}
	f, err := tokenfactory.New(cfg.Key, tokenfactory.WithIssuer(tokenfactory.MCAIssuer(r.URL())), tokenfactory.WithLifetime(tokenLifetime))
	if err != nil {
		return nil, fakeaz.App{}, fmt.Errorf("%w: AZ key: %w", ErrConfig, err)
	}
	r.factory = f
	if err := checkPublicKey(ctx, hc, r.URL(), cfg.AppID, &cfg.Key.PublicKey); err != nil {
		return nil, fakeaz.App{}, err
	}
	app := fakeaz.App{ID: cfg.AppID}
	if admin == nil {
		r.adminErr = errors.New("no admin API")
		return r, app, nil
	}
	actx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	got, err := admin.App(actx, cfg.AppID)
	switch {
	case errors.Is(err, fakeaz.ErrUnknownApp):
		return nil, app, fmt.Errorf("%w: the AZ's admin API does not know app %s", ErrConfig, cfg.AppID)
	case err != nil:
		u, _ := cfg.adminURL()
		r.adminErr = fmt.Errorf("admin API %s: %w", u, err)
		return r, app, nil
	}
	if got.IsAppID() {
		return nil, app, fmt.Errorf("%w: app %s has the App ID profile: the bench mints MCA tokens only", ErrConfig, cfg.AppID)
	}
	return r, got, nil
}

// checkPublicKey fetches the app's public key from the AZ once and compares it with key.
func checkPublicKey(ctx context.Context, hc *http.Client, serverURL, appID string, key *rsa.PublicKey) error {
	u := serverURL + "/authorization/v1/apps/" + url.PathEscape(appID) + "/publickey"
	ctx, cancel := context.WithTimeout(ctx, DefaultTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("%w: AZ URL: %w", ErrConfig, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench: the AZ's public key endpoint %s: %w", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: the AZ's public key endpoint %s answered %d (is %s the app the targets serve, and the URL the AZ's serverUrl?): %s",
			ErrConfig, u, resp.StatusCode, appID, oneLine(body))
	}
	pub, err := tokenfactory.ParsePublicKeyJSON(body)
	if err != nil {
		return fmt.Errorf("bench: the AZ's public key endpoint %s: %w", u, err)
	}
	if !pub.Equal(key) {
		return fmt.Errorf("%w: the AZ signs app %s with another key than the one given (start fakeaz with --key and give the bench the same PEM file)", ErrConfig, appID)
	}
	return nil
}

// newAdmin is the admin API client of a RemoteAZ.
func newAdmin(adminURL, token string, hc *http.Client) AdminAPI {
	return adminclient.New(adminURL, token, hc)
}
