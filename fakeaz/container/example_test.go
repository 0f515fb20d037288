package container_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/testcontainers/testcontainers-go"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/container"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// Start fakeaz in one call, register an app, mint a token for the service under test and make
// the AZ misbehave. (Needs a Docker engine and the image from `make images`; the same steps run
// as TestExampleRun, with host networking.) The container runs on the default bridge network:
// serverUrl is http://HOST:MAPPED/imf-authserver, the address this process reaches it at.
func ExampleRun() {
	ctx := context.Background()
	az, err := container.Run(ctx, container.DefaultImage,
		container.WithApps(fakeaz.App{ID: "0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11", BundleID: "com.example.app"}))
	defer func() {
		if err := testcontainers.TerminateContainer(az); err != nil {
			log.Printf("terminate fakeaz: %v", err)
		}
	}()
	if err != nil {
		log.Printf("start fakeaz: %v", err)
		return
	}
	appID := az.Apps()[0].ID

	// Configure the service under test with the serverUrl (the iss of the tokens).
	serverURL, _ := az.ServerURL(ctx)
	fmt.Println("MCA_SERVER_URL =", serverURL)

	// A token pair as the AZ would issue it after a login.
	tok, err := az.MintToken(ctx, appID, container.TokenRequest{
		ClientID: "device-1",
		User:     &tokenfactory.User{ID: "alice", AuthBy: "customRealm", DisplayName: "Alice"},
	})
	if err != nil {
		log.Printf("mint: %v", err)
		return
	}
	fmt.Println("Authorization: Bearer", tok.AccessToken[:10]+"...", tok.IDToken[:10]+"...")

	// From now on the publickey endpoint answers 503: the service must not accept tokens it
	// cannot verify.
	_ = az.SetFault(ctx, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: http.StatusServiceUnavailable})
	// ... exercise the service ...
	_ = az.ClearFaults(ctx)
}

// TestExampleRun runs the steps of ExampleRun with assertions.
func TestExampleRun(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	img := requireImage(t, container.DefaultImage)
	start := time.Now()
	// Docker's bridge is off where this runs (dockerd --bridge=none): host networking.
	az, err := container.Run(ctx, img, container.WithHostNetwork(), container.WithApps(fakeaz.App{BundleID: "com.example.app"}))
	testcontainers.CleanupContainer(t, az, testcontainers.StopTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fakeaz container ready in %v", time.Since(start).Round(time.Millisecond))
	appID := az.Apps()[0].ID
	serverURL, err := az.ServerURL(ctx)
	if err != nil || !strings.HasPrefix(serverURL, "http://127.0.0.1:") {
		t.Fatalf("ServerURL = %q, %v", serverURL, err)
	}
	tok, err := az.MintToken(ctx, appID, container.TokenRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(tok.AccessToken, ".") != 2 || strings.Count(tok.IDToken, ".") != 2 {
		t.Fatalf("tokens are not compact JWS: %+v", tok)
	}
	appURL, _ := az.AppURL(ctx, appID)
	if err := az.SetFault(ctx, fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: http.StatusServiceUnavailable}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, appURL+"/publickey"); status != http.StatusServiceUnavailable {
		t.Errorf("publickey under fault = %d, want 503", status)
	}
	if err := az.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, appURL+"/publickey"); status != http.StatusOK {
		t.Errorf("publickey after ClearFaults = %d, want 200", status)
	}
}
