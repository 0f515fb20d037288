package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/mcaspec/mcaspec/fakedevice"
)

// deviceDefaultTimeout bounds a whole device run (a fleet included).
const deviceDefaultTimeout = 5 * time.Minute

func runDevice(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("device", `Simulates the MCA client SDK of an iOS or Android app against an authorization
server (fakeaz): registers the device (CSR), runs the authorization step
(answering challenges with --username/--password/--pin or provider tokens),
redeems the code and prints the tokens and the id token's claims. With --call
it calls a protected resource with "Authorization: Bearer <access> <id>"
(re-authorizing once on a 401/403 naming imfAuthentication) and prints the
status and body. With --fleet N it runs N devices, --concurrency at a time, and
prints progress and a summary. Any http(s) server URL is accepted (a local
fakeaz, a container, a Service in a cluster).

Examples:
  mcaspec device --server-url http://127.0.0.1:8080/imf-authserver --app-id APP --bundle-id com.example.app
  mcaspec device ... --username alice --password alice123 --call http://127.0.0.1:3000/protected
  mcaspec device ... --fleet 500 --concurrency 16 --key-bits 512`, stderr)
	o := declareDeviceFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	base, err := o.config()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *o.timeout)
	defer cancel()
	newCall := func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, *o.method, *o.call, nil)
	}
	if *o.fleet > 0 {
		if *o.deviceID != "" {
			return fmt.Errorf("%w: --device-id cannot be used with --fleet", errUsage)
		}
		return runDeviceFleet(ctx, base, *o.fleet, *o.conc, *o.call != "", newCall, stdout, stderr)
	}
	return runOneDevice(ctx, base, o, newCall, stdout)
}

// deviceFlags holds the device command's flags, as parsed.
type deviceFlags struct {
	serverURL *string
	appID     *string
	bundleID  *string
	version   *string
	platform  *string
	deviceID  *string
	model     *string
	osVersion *string
	keyBits   *int
	quirks    *string
	legacyOS  *bool
	proactive *bool
	username  *string
	password  *string
	pin       *string
	fbToken   *string
	gToken    *string
	maxRounds *int
	call      *string
	method    *string
	logout    *bool
	fleet     *int
	conc      *int
	timeout   *time.Duration
}

// declareDeviceFlags declares the device command's flags on fs.
func declareDeviceFlags(fs *flag.FlagSet) *deviceFlags {
	o := &deviceFlags{}
	o.serverURL = fs.String("server-url", "", "the AZ serverUrl, e.g. http://127.0.0.1:PORT/imf-authserver (required)")
	o.appID = fs.String("app-id", "", "MCA app id (tenant id) (required)")
	o.bundleID = fs.String("bundle-id", "", "bundle id / package name sent in the CSR (required)")
	o.version = fs.String("version", fakedevice.DefaultAppVersion, "application version sent in the CSR")
	o.platform = fs.String("platform", string(fakedevice.DefaultPlatform), "iOSnative or android")
	o.deviceID = fs.String("device-id", "", "device id (default: random, shaped for the platform)")
	o.model = fs.String("model", "", "device model (default: one for the platform)")
	o.osVersion = fs.String("os-version", "", "OS version (default: one for the platform)")
	o.keyBits = fs.Int("key-bits", fakedevice.DefaultKeyBits, "device RSA key size (512 as the real SDKs; 512..4096)")
	o.quirks = fs.String("quirks", "sdk", "wire encodings: sdk (the platform's real SDK), none (a well-behaved client), or a comma-separated list of padded, std-jpk, padded-jpk, leading-zero, escape-slashes, sdk-idtoken")
	o.legacyOS = fs.Bool("legacy-android-os", false, "send the OS version as deviceOs, as the Android SDK did before February 2016")
	o.proactive = fs.Bool("proactive-refresh", false, "log in again when expires_in runs out (the real SDKs never do: they wait for the resource's challenge)")
	o.username = fs.String("username", "", "username answered to a custom realm's challenge")
	o.password = fs.String("password", "", "password answered to a custom realm's challenge")
	o.pin = fs.String("pin", "", "PIN answered to a custom realm's PIN challenge (second step)")
	o.fbToken = fs.String("facebook-token", "", "access token answered to the wl_facebookRealm challenge")
	o.gToken = fs.String("google-token", "", "token answered to the wl_googleRealm challenge (idToken on iOS, accessToken on Android)")
	o.maxRounds = fs.Int("max-rounds", fakedevice.DefaultMaxChallengeRounds, "most challenge answers in one authorization step")
	o.call = fs.String("call", "", "protected resource URL (http or https) to call after login")
	o.method = fs.String("method", http.MethodGet, "HTTP method for --call")
	o.logout = fs.Bool("logout", false, "log out at the end (single device only)")
	o.fleet = fs.Int("fleet", 0, "run this many devices instead of one")
	o.conc = fs.Int("concurrency", 0, "devices in flight in fleet mode (default 2*GOMAXPROCS)")
	o.timeout = fs.Duration("timeout", deviceDefaultTimeout, "bound on the whole run")
	return o
}

// config checks the flags and builds the device's config from them.
func (o *deviceFlags) config() (fakedevice.Config, error) {
	if *o.serverURL == "" || *o.appID == "" || *o.bundleID == "" {
		return fakedevice.Config{}, fmt.Errorf("%w: --server-url, --app-id and --bundle-id are required", errUsage)
	}
	if err := fakedevice.CheckServerURL(*o.serverURL); err != nil {
		return fakedevice.Config{}, fmt.Errorf("%w: --server-url: %w", errUsage, err)
	}
	if *o.call != "" {
		if err := fakedevice.CheckServerURL(*o.call); err != nil {
			return fakedevice.Config{}, fmt.Errorf("%w: --call: %w", errUsage, err)
		}
	}
	pf := fakedevice.Platform(*o.platform)
	if pf != fakedevice.PlatformIOS && pf != fakedevice.PlatformAndroid {
		return fakedevice.Config{}, fmt.Errorf("%w: --platform %q: want %s or %s", errUsage, *o.platform, fakedevice.PlatformIOS, fakedevice.PlatformAndroid)
	}
	if *o.fleet < 0 || *o.conc < 0 || *o.timeout <= 0 {
		return fakedevice.Config{}, fmt.Errorf("%w: --fleet, --concurrency and --timeout must be positive", errUsage)
	}
	q, err := parseQuirks(*o.quirks)
	if err != nil {
		return fakedevice.Config{}, err
	}
	handlers := map[string]fakedevice.Handler{}
	if *o.fbToken != "" {
		handlers[fakedevice.RealmFacebook] = fakedevice.Facebook(staticToken(*o.fbToken))
	}
	if *o.gToken != "" {
		handlers[fakedevice.RealmGoogle] = fakedevice.Google(staticToken(*o.gToken), pf)
	}
	var fallback fakedevice.Handler
	if *o.username != "" || *o.password != "" || *o.pin != "" {
		fallback = fakedevice.CustomCredentials(*o.username, *o.password).WithPIN(*o.pin)
	}
	base := fakedevice.Config{
		ServerURL: *o.serverURL, AppID: *o.appID, BundleID: *o.bundleID, AppVersion: *o.version, Platform: pf,
		DeviceID: *o.deviceID, DeviceModel: *o.model, OSVersion: *o.osVersion, KeyBits: *o.keyBits,
		Handlers: handlers, Fallback: fallback, MaxChallengeRounds: *o.maxRounds, Quirks: q,
		LegacyAndroidDeviceOS: *o.legacyOS, ProactiveRefresh: *o.proactive,
	}
	if _, err := fakedevice.New(base); err != nil { // check the config once, before any I/O
		return fakedevice.Config{}, fmt.Errorf("%w: %w", errUsage, err)
	}
	return base, nil
}

// runOneDevice logs one device in, prints its tokens (or calls --call and
// prints the answer) and logs it out if asked.
func runOneDevice(ctx context.Context, base fakedevice.Config, o *deviceFlags,
	newCall func(context.Context) (*http.Request, error), stdout io.Writer) error {
	d, err := fakedevice.New(base)
	if err != nil {
		return err
	}
	if err := d.Login(ctx); err != nil {
		return err
	}
	t := d.Tokens()
	fmt.Fprintf(stdout, "deviceId:      %s\nclientId:      %s\n", d.DeviceID(), d.ClientID())
	if *o.call == "" {
		fmt.Fprintf(stdout, "access_token:  %s\nid_token:      %s\nexpires_in:    %v\nAuthorization: %s\n",
			t.Access, t.ID, t.ExpiresIn, d.AuthorizationHeader())
		if t.ID != "" {
			c, err := d.IDTokenClaims()
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(c.Raw, "", "  ")
			fmt.Fprintf(stdout, "id token claims:\n%s\n", b)
		}
	} else {
		req, err := newCall(ctx)
		if err != nil {
			return fmt.Errorf("%w: --call: %w", errUsage, err)
		}
		resp, err := d.Call(ctx, req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("reading the resource's body: %w", err)
		}
		fmt.Fprintf(stdout, "status:        %s\n%s\n", resp.Status, body)
	}
	if *o.logout {
		if err := d.Logout(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "logged out")
	}
	return nil
}

func runDeviceFleet(ctx context.Context, base fakedevice.Config, n, conc int, call bool,
	newCall func(context.Context) (*http.Request, error), stdout, stderr io.Writer) error {
	step := max(1, n/20)
	cfg := fakedevice.FleetConfig{
		N: n, Concurrency: conc,
		NewConfig: func(int) fakedevice.Config { return base },
		Progress: func(done, failed int) {
			if done%step == 0 || done == n {
				fmt.Fprintf(stderr, "progress: %d/%d done, %d failed\n", done, n, failed)
			}
		},
	}
	if call {
		cfg.Then = func(ctx context.Context, d *fakedevice.Device) error {
			req, err := newCall(ctx)
			if err != nil {
				return err
			}
			resp, err := d.Call(ctx, req)
			if err != nil {
				return err
			}
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode < 200 || resp.StatusCode > 299 {
				return fmt.Errorf("resource answered %s", resp.Status)
			}
			return nil
		}
	}
	res, err := fakedevice.RunFleet(ctx, cfg)
	fmt.Fprint(stdout, res.String())
	if err != nil {
		return err
	}
	if res.Failed > 0 {
		return fmt.Errorf("%d of %d devices failed", res.Failed, res.N)
	}
	return nil
}

func staticToken(tok string) fakedevice.TokenFunc {
	return func(context.Context, string) (string, error) { return tok, nil }
}

// parseQuirks maps --quirks onto Config.Quirks: nil for "sdk" (the
// platform's real SDK), &Quirks{} for "none", else the listed quirks.
func parseQuirks(s string) (*fakedevice.Quirks, error) {
	switch strings.TrimSpace(s) {
	case "sdk", "all", "":
		return nil, nil
	case "none":
		return &fakedevice.Quirks{}, nil
	}
	var q fakedevice.Quirks
	for _, name := range strings.Split(s, ",") {
		switch strings.TrimSpace(name) {
		case "":
		case "padded":
			q.PaddedBase64 = true
		case "std-jpk":
			q.StdAlphabetJPK = true
		case "padded-jpk":
			q.PaddedJPK = true
		case "leading-zero":
			q.LeadingZeroModulus = true
		case "escape-slashes":
			q.EscapeSlashes = true
		case "sdk-idtoken", "std-idtoken":
			q.SDKIDTokenDecoding = true
		default:
			return nil, fmt.Errorf("%w: --quirks: unknown quirk %q (sdk, none, or a list of padded, std-jpk, padded-jpk, leading-zero, escape-slashes, sdk-idtoken)", errUsage, name)
		}
	}
	return &q, nil
}
