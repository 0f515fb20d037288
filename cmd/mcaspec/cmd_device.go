package main

import (
	"context"
	"encoding/json"
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
	var (
		serverURL = fs.String("server-url", "", "the AZ serverUrl, e.g. http://127.0.0.1:PORT/imf-authserver (required)")
		appID     = fs.String("app-id", "", "MCA app id (tenant id) (required)")
		bundleID  = fs.String("bundle-id", "", "bundle id / package name sent in the CSR (required)")
		version   = fs.String("version", fakedevice.DefaultAppVersion, "application version sent in the CSR")
		platform  = fs.String("platform", string(fakedevice.DefaultPlatform), "iOSnative or android")
		deviceID  = fs.String("device-id", "", "device id (default: random, shaped for the platform)")
		model     = fs.String("model", "", "device model (default: one for the platform)")
		osVersion = fs.String("os-version", "", "OS version (default: one for the platform)")
		keyBits   = fs.Int("key-bits", fakedevice.DefaultKeyBits, "device RSA key size (512 as the real SDKs; 512..4096)")
		quirks    = fs.String("quirks", "sdk", "wire encodings: sdk (the platform's real SDK), none (a well-behaved client), or a comma-separated list of padded, std-jpk, padded-jpk, leading-zero, escape-slashes, sdk-idtoken")
		legacyOS  = fs.Bool("legacy-android-os", false, "send the OS version as deviceOs, as the Android SDK did before February 2016")
		proactive = fs.Bool("proactive-refresh", false, "log in again when expires_in runs out (the real SDKs never do: they wait for the resource's challenge)")
		username  = fs.String("username", "", "username answered to a custom realm's challenge")
		password  = fs.String("password", "", "password answered to a custom realm's challenge")
		pin       = fs.String("pin", "", "PIN answered to a custom realm's PIN challenge (second step)")
		fbToken   = fs.String("facebook-token", "", "access token answered to the wl_facebookRealm challenge")
		gToken    = fs.String("google-token", "", "token answered to the wl_googleRealm challenge (idToken on iOS, accessToken on Android)")
		maxRounds = fs.Int("max-rounds", fakedevice.DefaultMaxChallengeRounds, "most challenge answers in one authorization step")
		call      = fs.String("call", "", "protected resource URL (http or https) to call after login")
		method    = fs.String("method", http.MethodGet, "HTTP method for --call")
		logout    = fs.Bool("logout", false, "log out at the end (single device only)")
		fleet     = fs.Int("fleet", 0, "run this many devices instead of one")
		conc      = fs.Int("concurrency", 0, "devices in flight in fleet mode (default 2*GOMAXPROCS)")
		timeout   = fs.Duration("timeout", deviceDefaultTimeout, "bound on the whole run")
	)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *serverURL == "" || *appID == "" || *bundleID == "" {
		return fmt.Errorf("%w: --server-url, --app-id and --bundle-id are required", errUsage)
	}
	if err := fakedevice.CheckServerURL(*serverURL); err != nil {
		return fmt.Errorf("%w: --server-url: %w", errUsage, err)
	}
	if *call != "" {
		if err := fakedevice.CheckServerURL(*call); err != nil {
			return fmt.Errorf("%w: --call: %w", errUsage, err)
		}
	}
	pf := fakedevice.Platform(*platform)
	if pf != fakedevice.PlatformIOS && pf != fakedevice.PlatformAndroid {
		return fmt.Errorf("%w: --platform %q: want %s or %s", errUsage, *platform, fakedevice.PlatformIOS, fakedevice.PlatformAndroid)
	}
	if *fleet < 0 || *conc < 0 || *timeout <= 0 {
		return fmt.Errorf("%w: --fleet, --concurrency and --timeout must be positive", errUsage)
	}
	q, err := parseQuirks(*quirks)
	if err != nil {
		return err
	}
	handlers := map[string]fakedevice.Handler{}
	if *fbToken != "" {
		handlers[fakedevice.RealmFacebook] = fakedevice.Facebook(staticToken(*fbToken))
	}
	if *gToken != "" {
		handlers[fakedevice.RealmGoogle] = fakedevice.Google(staticToken(*gToken), pf)
	}
	var fallback fakedevice.Handler
	if *username != "" || *password != "" || *pin != "" {
		fallback = fakedevice.CustomCredentials(*username, *password).WithPIN(*pin)
	}
	base := fakedevice.Config{
		ServerURL: *serverURL, AppID: *appID, BundleID: *bundleID, AppVersion: *version, Platform: pf,
		DeviceID: *deviceID, DeviceModel: *model, OSVersion: *osVersion, KeyBits: *keyBits,
		Handlers: handlers, Fallback: fallback, MaxChallengeRounds: *maxRounds, Quirks: q,
		LegacyAndroidDeviceOS: *legacyOS, ProactiveRefresh: *proactive,
	}
	if _, err := fakedevice.New(base); err != nil { // check the config once, before any I/O
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	newCall := func(ctx context.Context) (*http.Request, error) {
		return http.NewRequestWithContext(ctx, *method, *call, nil)
	}
	if *fleet > 0 {
		if *deviceID != "" {
			return fmt.Errorf("%w: --device-id cannot be used with --fleet", errUsage)
		}
		return runDeviceFleet(ctx, base, *fleet, *conc, *call != "", newCall, stdout, stderr)
	}

	d, err := fakedevice.New(base)
	if err != nil {
		return err
	}
	if err := d.Login(ctx); err != nil {
		return err
	}
	t := d.Tokens()
	fmt.Fprintf(stdout, "deviceId:      %s\nclientId:      %s\n", d.DeviceID(), d.ClientID())
	if *call == "" {
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
	if *logout {
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
