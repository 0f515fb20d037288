package container_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
)

// Environment of the container tests (set by `make docker-test`, build/docker.mk).
const (
	envImage    = "MCASPEC_FAKEAZ_IMAGE"    // image under test (default container.DefaultImage)
	envRequired = "MCASPEC_DOCKER_REQUIRED" // "1": a missing engine or image fails instead of skipping
	envState    = "MCASPEC_DOCKER_STATE"    // .ci/docker-up.sh state dir (default /tmp/mcaspec-docker)
)

func TestMain(m *testing.M) {
	// The Ryuk reaper is an image pulled from a registry, and none is reachable here; every test
	// terminates its own containers (t.Cleanup). An explicit setting wins.
	if _, set := os.LookupEnv("TESTCONTAINERS_RYUK_DISABLED"); !set {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	}
	os.Exit(m.Run())
}

// requireImage skips (or fails, with MCASPEC_DOCKER_REQUIRED=1) the test unless a Docker engine
// answers and has the image; it returns the image.
func requireImage(t *testing.T, def string) string {
	t.Helper()
	img := def
	if v := os.Getenv(envImage); v != "" {
		img = v
	}
	skip := t.Skipf
	if os.Getenv(envRequired) == "1" {
		skip = t.Fatalf
	}
	if err := dockerHasImage(t.Context(), img); err != nil {
		skip("container test needs a Docker engine and the image %s: %v", img, err)
	}
	return img
}

func dockerHasImage(ctx context.Context, img string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	state := os.Getenv(envState)
	if state == "" {
		state = "/tmp/mcaspec-docker"
	}
	if b, err := os.ReadFile(filepath.Join(state, "unavailable")); err == nil {
		return fmt.Errorf(".ci/docker-up.sh found that Docker cannot run here: %s", strings.TrimSpace(string(b)))
	}
	cli, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		return fmt.Errorf("no Docker client (start an engine with .ci/docker-up.sh): %w", err)
	}
	defer cli.Close()
	if _, err := cli.Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("no Docker engine answers (start one with .ci/docker-up.sh): %w", err)
	}
	if _, err := cli.ImageInspect(ctx, img); err != nil {
		return fmt.Errorf("image not found (build it with `make images`): %w", err)
	}
	return nil
}

var errNotJWT = errors.New("not a compact JWS")

// noBridge reports whether the Docker engine has no "bridge" network (dockerd --bridge=none).
func noBridge(t *testing.T) bool {
	t.Helper()
	cli, err := testcontainers.NewDockerClientWithOpts(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	_, err = cli.NetworkInspect(t.Context(), "bridge", client.NetworkInspectOptions{})
	if err != nil && !errdefs.IsNotFound(err) {
		t.Fatalf("inspect the bridge network: %v", err)
	}
	return errdefs.IsNotFound(err)
}
