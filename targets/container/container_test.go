package container_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/mcaspec/mcaspec/fakeaz"
	fakeazcontainer "github.com/mcaspec/mcaspec/fakeaz/container"
	"github.com/mcaspec/mcaspec/fakeaz/container/hostnet"
	"github.com/mcaspec/mcaspec/targets/container"
	"github.com/mcaspec/mcaspec/targets/launch"
)

const appID = "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11"

func TestMain(m *testing.M) {
	// No registry is reachable for the Ryuk image; tests terminate their containers themselves.
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// requireImages skips (or fails, with MCASPEC_DOCKER_REQUIRED=1) unless a Docker engine answers
// and has the images; it returns the fakeaz and reference images.
func requireImages(t *testing.T) (fakeazImg, referenceImg string) {
	t.Helper()
	fakeazImg, referenceImg = envOr("MCASPEC_FAKEAZ_IMAGE", fakeazcontainer.DefaultImage), envOr("MCASPEC_REFERENCE_IMAGE", "mcaspec/reference:dev")
	fail := t.Skipf
	if os.Getenv("MCASPEC_DOCKER_REQUIRED") == "1" {
		fail = t.Fatalf
	}
	state := envOr("MCASPEC_DOCKER_STATE", "/tmp/mcaspec-docker")
	if b, err := os.ReadFile(filepath.Join(state, "unavailable")); err == nil {
		fail("container test: .ci/docker-up.sh found that Docker cannot run here: %s", strings.TrimSpace(string(b)))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		fail("container test: no Docker client (start an engine with .ci/docker-up.sh): %v", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		fail("container test: no Docker engine answers (start one with .ci/docker-up.sh): %v", err)
	}
	for _, img := range []string{fakeazImg, referenceImg} {
		if _, err := cli.ImageInspect(ctx, img); err != nil {
			fail("container test: image %s not found (build it with `make images`): %v", img, err)
		}
	}
	return fakeazImg, referenceImg
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// syncBuffer is an io.Writer safe for the log consumer goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func do(t *testing.T, url, authorization string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// The reference image, started through the contract against fakeaz in a container, validates
// tokens minted by that fakeaz: both containers talk over the host's loopback only.
func TestStartReferenceImage(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	fakeazImg, referenceImg := requireImages(t)
	az, err := fakeazcontainer.Run(ctx, fakeazImg, fakeazcontainer.WithApps(fakeaz.App{ID: appID}), fakeazcontainer.WithQuiet(), fakeazcontainer.WithHostNetwork())
	testcontainers.CleanupContainer(t, az, testcontainers.StopTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	serverURL, err := az.ServerURL(ctx)
	if err != nil {
		t.Fatal(err)
	}

	var out syncBuffer
	start := time.Now()
	tg, err := container.Start(ctx, referenceImg, launch.Contract{ServerURL: serverURL, AppID: appID}, container.Options{Output: &out, ReadyTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := tg.Terminate(context.Background()); err != nil {
			t.Error(err)
		}
	})
	t.Logf("reference container healthy in %v", time.Since(start).Round(time.Millisecond))
	if want := fmt.Sprintf("http://127.0.0.1:%d", tg.Port()); tg.URL() != want {
		t.Fatalf("URL() = %q, want %q", tg.URL(), want)
	}

	tok, err := az.MintToken(ctx, appID, fakeazcontainer.TokenRequest{ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	protected := tg.URL() + "/v1/apps/" + appID + "/protected"
	tests := []struct {
		name, url, auth string
		status          int
		wwwAuth         string
	}{
		{"healthz", tg.URL() + container.HealthPath, "", http.StatusOK, ""},
		{"protected with a token of the AZ", protected, "Bearer " + tok.AccessToken + " " + tok.IDToken, http.StatusOK, ""},
		{"protected without a token", protected, "", http.StatusUnauthorized, `Bearer realm="imfAuthentication"`},
		{"protected with a broken token", protected, "Bearer " + tok.AccessToken + "x", http.StatusUnauthorized, `Bearer realm="imfAuthentication", error="invalid_token"`},
	}
	for _, tt := range tests {
		resp, body := do(t, tt.url, tt.auth)
		if resp.StatusCode != tt.status || resp.Header.Get("WWW-Authenticate") != tt.wwwAuth {
			t.Errorf("%s: %d WWW-Authenticate %q %s; want %d %q", tt.name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, tt.status, tt.wwwAuth)
		}
	}

	// The reference prints its URL once listening; poll the logs for it (bounded).
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for range tick.C {
		logs, err := tg.Logs(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(logs, tg.URL()) && strings.Contains(out.String(), tg.URL()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the target's URL is not in its logs %q / output copy %q", logs, out.String())
		}
	}

	if err := tg.Terminate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := tg.Terminate(ctx); err != nil {
		t.Errorf("second Terminate: %v", err)
	}
	if _, err := tg.Logs(ctx); err == nil {
		t.Error("Logs after Terminate: the container should be gone")
	}
}

// A target that exits at start-up (here: the reference without MCA_SERVER_URL) is reported at
// once, with its output, and removed.
func TestStartReportsATargetThatExits(t *testing.T) {
	t.Parallel()
	_, referenceImg := requireImages(t)
	start := time.Now()
	tg, err := container.Start(t.Context(), referenceImg, launch.Contract{AppID: appID}, container.Options{ReadyTimeout: 20 * time.Second})
	if err == nil {
		_ = tg.Terminate(context.Background())
		t.Fatal("Start succeeded without MCA_SERVER_URL")
	}
	if !errors.Is(err, launch.ErrNotReady) {
		t.Errorf("error %v does not wrap launch.ErrNotReady", err)
	}
	for _, want := range []string{"exited with code 2", "MCA_SERVER_URL is not set", "target output"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("Start took %v to notice the exit", d)
	}
}

func TestStartRefusesMissingImages(t *testing.T) {
	t.Parallel()
	if _, err := container.Start(t.Context(), "", launch.Contract{}, container.Options{}); err == nil {
		t.Error("Start with no image succeeded")
	}
	requireImages(t)
	_, err := container.Start(t.Context(), "mcaspec/does-not-exist:never", launch.Contract{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: appID}, container.Options{})
	if !errors.Is(err, hostnet.ErrImageNotFound) || !errors.Is(err, launch.ErrNotReady) {
		t.Errorf("Start with a missing image: %v; want ErrImageNotFound (never a pull)", err)
	}
}

// The Node targets in images built from the host's node (make node-images): started through the
// contract, they answer /healthz and validate a token minted by fakeaz. Skipped when the images
// were not built (they are optional: they need node and the targets' node_modules on the host).
func TestStartNodeTargetImages(t *testing.T) {
	t.Parallel()
	fakeazImg, _ := requireImages(t)
	tests := []struct {
		image   string
		backend bool
	}{
		{envOr("MCASPEC_BMS_RESOURCE_IMAGE", "mcaspec/bms-mca-resource:dev"), false},
		{envOr("MCASPEC_BMS_BACKEND_IMAGE", "mcaspec/bms-mca-backend:dev"), true},
	}
	for _, tt := range tests {
		t.Run(tt.image, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			cli, err := testcontainers.NewDockerClientWithOpts(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer cli.Close()
			if _, err := cli.ImageInspect(ctx, tt.image); err != nil {
				t.Skipf("optional Node target image %s not built (make node-images): %v", tt.image, err)
			}
			az, err := fakeazcontainer.Run(ctx, fakeazImg, fakeazcontainer.WithHostNetwork(), fakeazcontainer.WithQuiet(), fakeazcontainer.WithApps(fakeaz.App{
				ID: appID, ServiceClients: []fakeaz.ServiceClient{{ClientID: "svc", Secret: "s3cret"}},
			}))
			testcontainers.CleanupContainer(t, az, testcontainers.StopTimeout(5*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			serverURL, err := az.ServerURL(ctx)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c := launch.Contract{ServerURL: serverURL, AppID: appID, ClientID: "svc", Secret: "s3cret", Backend: tt.backend}
			tg, err := container.Start(ctx, tt.image, c, container.Options{ReadyTimeout: 60 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tg.Terminate(context.Background()) })
			t.Logf("%s healthy in %v", tt.image, time.Since(start).Round(time.Millisecond))
			tok, err := az.MintToken(ctx, appID, fakeazcontainer.TokenRequest{ClientID: "c1"})
			if err != nil {
				t.Fatal(err)
			}
			protected := tg.URL() + "/v1/apps/" + appID + "/protected"
			if resp, body := do(t, protected, "Bearer "+tok.AccessToken+" "+tok.IDToken); resp.StatusCode != http.StatusOK {
				logs, _ := tg.Logs(ctx)
				t.Errorf("protected with a valid token: %d %s\nlogs:\n%s", resp.StatusCode, body, logs)
			}
			if resp, body := do(t, protected, ""); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("protected without a token: %d %s", resp.StatusCode, body)
			}
		})
	}
}
