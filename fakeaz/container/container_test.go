package container_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/container"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const (
	appA = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"
	appB = "1c6c6b9d-7b8e-4d47-8b4f-3a1f5c9b2d22"
)

// run starts fakeaz for one test on the host's network and terminates it when the test ends.
// The engines these tests run on have Docker's bridge off (dockerd --bridge=none, see
// .ci/docker-up.sh), so every container test asks for host networking; the bridge path is
// checked without an engine in request_test.go.
func run(t *testing.T, opts ...testcontainers.ContainerCustomizer) *container.Container {
	t.Helper()
	img := requireImage(t, container.DefaultImage)
	az, err := container.Run(t.Context(), img, append([]testcontainers.ContainerCustomizer{container.WithHostNetwork()}, opts...)...)
	testcontainers.CleanupContainer(t, az, testcontainers.StopTimeout(5*time.Second))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return az
}

// get does one GET on loopback and returns status and body.
func get(t *testing.T, url string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, b
}

// verifyRS256 checks a compact JWS against key and returns its claims.
func verifyRS256(tok string, key *rsa.PublicKey) (map[string]any, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, errNotJWT
	}
	sig, err := tokenfactory.B64.DecodeString(parts[2])
	if err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	h := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(key, crypto.SHA256, h[:], sig); err != nil {
		return nil, err
	}
	payload, err := tokenfactory.B64.DecodeString(parts[1])
	if err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	var claims map[string]any
	return claims, json.Unmarshal(payload, &claims)
}

// Options are checked before any container starts: these tests need no Docker engine.
func TestRunRejectsBadOptions(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"apps": [{"appId": "x", "typo": 1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opt  container.Option
		want error // nil: any error
	}{
		{"missing config file", container.WithConfigFile(filepath.Join(t.TempDir(), "none.json")), nil},
		{"config with unknown field", container.WithConfigFile(bad), fakeaz.ErrInvalidConfig},
		{"invalid config", container.WithConfig(fakeaz.Config{Apps: []fakeaz.App{{ID: appA, Platform: "symbian"}}}), fakeaz.ErrInvalidApp},
		{"invalid app", container.WithApps(fakeaz.App{Platform: "symbian"}), fakeaz.ErrInvalidApp},
		{"port 0", container.WithPort(0), nil},
		{"port too large", container.WithPort(70000), nil},
		{"negative token lifetime", container.WithTokenLifetime(-time.Second), nil},
		{"zero code lifetime", container.WithCodeLifetime(0), nil},
		{"zero startup timeout", container.WithStartupTimeout(0), nil},
		{"nil http client", container.WithHTTPClient(nil), nil},
		{"public URL without scheme", container.WithPublicURL("fakeaz:9080/imf-authserver"), nil},
		{"public URL with another scheme", container.WithPublicURL("ftp://fakeaz/imf-authserver"), nil},
		{"public URL without host", container.WithPublicURL("http:///imf-authserver"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// An image that cannot exist: the option error must come first.
			az, err := container.Run(t.Context(), "mcaspec/does-not-exist:never", tt.opt)
			if err == nil || az != nil {
				t.Fatalf("Run = %v, %v; want an option error and no container", az, err)
			}
			if !strings.HasPrefix(err.Error(), "run fakeaz: With") {
				t.Errorf("error %q does not name the option", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
		})
	}
}

func TestRunServesAppsTokensAndFaults(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	az := run(t, container.WithApps(fakeaz.App{ID: appA, BundleID: "com.example.a"}, fakeaz.App{BundleID: "com.example.gen"}))

	serverURL, err := az.ServerURL(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("http://127.0.0.1:%d/imf-authserver", az.Port()); serverURL != want {
		t.Fatalf("ServerURL = %q, want %q", serverURL, want)
	}
	apps := az.Apps()
	if len(apps) != 2 || apps[0].ID != appA || apps[1].ID == "" || apps[1].BundleID != "com.example.gen" {
		t.Fatalf("Apps() = %+v, want appA and an app with a generated id", apps)
	}

	// The publickey endpoint serves the key that signs the minted tokens; iss is the serverUrl.
	appURL, err := az.AppURL(ctx, appA)
	if err != nil {
		t.Fatal(err)
	}
	status, body := get(t, appURL+"/publickey")
	if status != http.StatusOK {
		t.Fatalf("publickey: %d %s", status, body)
	}
	key, err := tokenfactory.ParsePublicKeyJSON(body)
	if err != nil {
		t.Fatal(err)
	}
	user := &tokenfactory.User{ID: "alice", AuthBy: "customRealm", DisplayName: "Alice"}
	tok, err := az.MintToken(ctx, appA, container.TokenRequest{ClientID: "c1", User: user})
	if err != nil {
		t.Fatal(err)
	}
	for name, jws := range map[string]string{"access": tok.AccessToken, "id": tok.IDToken} {
		claims, err := verifyRS256(jws, key)
		if err != nil {
			t.Fatalf("%s token does not verify with the app's publickey: %v", name, err)
		}
		if want := tokenfactory.MCAIssuer(serverURL); claims["iss"] != want {
			t.Errorf("%s token iss = %v, want %q (the real AZ's shape)", name, claims["iss"], want)
		}
	}
	if tok.TokenType != "Bearer" || tok.ExpiresIn <= 0 {
		t.Errorf("token response %+v: want Bearer with a positive expires_in", tok)
	}

	// Faults, one after the other (they are server-wide), then cleared.
	faults := []struct {
		name   string
		spec   fakeaz.FaultSpec
		status int
		body   string
	}{
		{"503 on publickey", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 503, Body: `{"error":"down"}`}, 503, `{"error":"down"}`},
		{"garbage body", fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, AppID: appA, Status: 200, Body: fakeaz.GarbageBody}, 200, fakeaz.GarbageBody},
		{"empty body", fakeaz.FaultSpec{Endpoint: "*", Status: 500}, 500, ""},
	}
	for _, f := range faults {
		if err := az.SetFault(ctx, f.spec); err != nil {
			t.Fatalf("%s: SetFault: %v", f.name, err)
		}
		status, body := get(t, appURL+"/publickey")
		if status != f.status || string(body) != f.body {
			t.Errorf("%s: publickey = %d %q, want %d %q", f.name, status, body, f.status, f.body)
		}
		if err := az.ClearFaults(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if status, _ := get(t, appURL+"/publickey"); status != http.StatusOK {
		t.Errorf("publickey after ClearFaults = %d, want 200", status)
	}

	st, err := az.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.Count(fakeaz.EndpointPublicKey, appA); n != 5 {
		t.Errorf("Stats publickey for appA = %d, want 5", n)
	}

	// Key rotation through the admin API: a new current kid, the old key kept for the overlap.
	kid0, _, err := az.Keys(ctx, appA)
	if err != nil {
		t.Fatal(err)
	}
	if err := az.RotateKey(ctx, appA, time.Minute); err != nil {
		t.Fatal(err)
	}
	kid1, keys, err := az.Keys(ctx, appA)
	if err != nil {
		t.Fatal(err)
	}
	if kid1 == kid0 || len(keys) != 2 || keys[1].Kid != kid0 {
		t.Errorf("after RotateKey: current %q (was %q), keys %+v; want a new kid and the old one kept", kid1, kid0, keys)
	}
}

func TestAdminErrors(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	az := run(t, container.WithApps(fakeaz.App{ID: appA}), container.WithQuiet())
	tests := []struct {
		name   string
		call   func() error
		status int
		want   error
	}{
		{"duplicate app", func() error { _, err := az.AddApp(ctx, fakeaz.App{ID: appA}); return err }, 409, fakeaz.ErrAppExists},
		{"mint for unknown app", func() error { _, err := az.MintToken(ctx, appB, container.TokenRequest{}); return err }, 404, fakeaz.ErrUnknownApp},
		{"remove unknown app", func() error { return az.RemoveApp(ctx, appB) }, 404, fakeaz.ErrUnknownApp},
		{"revoke unknown client", func() error { return az.RevokeClient(ctx, appA, "nobody") }, 404, fakeaz.ErrUnknownClient},
		{"invalid fault", func() error { return az.SetFault(ctx, fakeaz.FaultSpec{Endpoint: "nope", Status: 500}) }, 400, nil},
	}
	for _, tt := range tests {
		err := tt.call()
		var ae *container.AdminError
		if !errors.As(err, &ae) || ae.Status != tt.status || !errors.Is(err, container.ErrAdmin) {
			t.Errorf("%s: error %v, want an AdminError with status %d", tt.name, err, tt.status)
			continue
		}
		if tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v is not %v", tt.name, err, tt.want)
		}
	}
	// The app is still there and can be removed.
	if _, err := az.App(ctx, appA); err != nil {
		t.Fatal(err)
	}
	if err := az.RemoveApp(ctx, appA); err != nil {
		t.Fatal(err)
	}
	if _, err := az.App(ctx, appA); !errors.Is(err, fakeaz.ErrUnknownApp) {
		t.Errorf("App after RemoveApp: %v, want ErrUnknownApp", err)
	}
}

func TestRunWithConfig(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(file, []byte(`{"apps": [{"appId": "`+appA+`", "bundleId": "com.example.file"}], "tokenLifetime": "90s"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		opt    container.Option
		appID  string
		bundle string
		ttl    int64
	}{
		{"file", container.WithConfigFile(file), appA, "com.example.file", 90},
		{"go value", container.WithConfig(fakeaz.Config{Apps: []fakeaz.App{{ID: appB, BundleID: "com.example.go"}}, TokenLifetime: fakeaz.Duration(2 * time.Minute)}), appB, "com.example.go", 120},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			az := run(t, tt.opt, container.WithApps(fakeaz.App{BundleID: "com.example.extra"}))
			a, err := az.App(ctx, tt.appID)
			if err != nil {
				t.Fatalf("app of the config: %v", err)
			}
			if a.BundleID != tt.bundle {
				t.Errorf("bundleId = %q, want %q", a.BundleID, tt.bundle)
			}
			if len(az.Apps()) != 1 || az.Apps()[0].BundleID != "com.example.extra" {
				t.Errorf("WithApps beside a config: Apps() = %+v", az.Apps())
			}
			tok, err := az.MintToken(ctx, tt.appID, container.TokenRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if tok.ExpiresIn != tt.ttl {
				t.Errorf("expires_in = %d, want %d (tokenLifetime of the config)", tok.ExpiresIn, tt.ttl)
			}
		})
	}
}

// A fakeaz that exits at once (a usage error) is reported by Run quickly, with the container so
// that its logs can be read.
func TestRunReportsAnExitedServer(t *testing.T) {
	t.Parallel()
	img := requireImage(t, container.DefaultImage)
	start := time.Now()
	az, err := container.Run(t.Context(), img, container.WithHostNetwork(),
		testcontainers.WithCmd("fakeaz", "--no-such-flag"), container.WithStartupTimeout(20*time.Second))
	testcontainers.CleanupContainer(t, az, testcontainers.StopTimeout(time.Second))
	if err == nil {
		t.Fatal("Run succeeded with a server that cannot start")
	}
	if !strings.Contains(err.Error(), "exited with code 2") {
		t.Errorf("error %q does not say the container exited (code 2: usage)", err)
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Run took %v to notice the exit", d)
	}
	if az == nil {
		t.Fatal("Run returned no container with the error")
	}
	logs, err := az.Logs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	b, _ := io.ReadAll(logs)
	if !strings.Contains(string(b), "no-such-flag") {
		t.Errorf("container logs %q do not explain the refusal", b)
	}
}

// On an engine without a bridge network (the machines this project is tested on), the default
// path fails at once with the remedy, and creates no container.
func TestRunWithoutABridgeSaysWhatToDo(t *testing.T) {
	t.Parallel()
	img := requireImage(t, container.DefaultImage)
	if !noBridge(t) {
		t.Skip("the Docker engine has a bridge network")
	}
	start := time.Now()
	az, err := container.Run(t.Context(), img)
	testcontainers.CleanupContainer(t, az)
	if !errors.Is(err, container.ErrNoBridge) || !strings.Contains(err.Error(), "WithHostNetwork") {
		t.Fatalf("Run = %v, want ErrNoBridge naming WithHostNetwork", err)
	}
	if az != nil {
		t.Error("Run created a container")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v to refuse", d)
	}
}
