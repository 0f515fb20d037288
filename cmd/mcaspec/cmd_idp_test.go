package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestIDPCommandUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"--kind", "saml"}, `want custom, facebook or google`},
		{[]string{"--kind", "google", "--config", "x.json"}, "--config applies"},
		{[]string{"--kind", "custom", "--app", "1:s"}, "--app applies"},
		{[]string{"--kind", "facebook", "--app", "nosecret"}, "app id"},
		{[]string{"--listen", "0.0.0.0"}, "host:port"},
	}
	for _, tc := range tests {
		err := runIDP(t.Context(), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want a usage error containing %q", tc.args, err, tc.msg)
		}
	}
}

func TestIDPCommandRuns(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "idp.json")
	if err := os.WriteFile(cfg, []byte(`{"realms":{"r":{"users":[{"userName":"u","password":"p"}]}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args  []string
		probe string // path answering 200
	}{
		{[]string{"--kind", "custom", "--config", cfg}, "/admin/users"},
		{[]string{"--kind", "facebook", "--app", "1:s"}, "/admin/stats"},
		{[]string{"--kind", "google"}, "/oauth2/v3/certs"},
	}
	for _, tc := range tests {
		t.Run(tc.args[1], func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				done <- runIDP(ctx, tc.args, pw, io.Discard)
				pw.Close()
			}()
			line, err := bufio.NewReader(pr).ReadString('\n')
			if err != nil {
				t.Fatalf("no URL line: %v (run: %v)", err, <-done)
			}
			go func() { _, _ = io.Copy(io.Discard, pr) }()
			var out struct{ Kind, URL string }
			if err := json.Unmarshal([]byte(line), &out); err != nil || out.Kind != tc.args[1] || !strings.HasPrefix(out.URL, "http://127.0.0.1:") {
				t.Fatalf("line %q: %v", line, err)
			}
			resp, err := http.Get(out.URL + tc.probe)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("GET %s: %d", tc.probe, resp.StatusCode)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("run returned %v after cancel", err)
			}
		})
	}
}

func TestIDPCommandAdminToken(t *testing.T) {
	t.Setenv(adminTokenEnv, "") // not parallel: the refusal needs no token in the environment
	if err := runIDP(t.Context(), []string{"--kind", "facebook", "--listen", "0.0.0.0:0"}, io.Discard, io.Discard); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "--admin-token") {
		t.Errorf("every interface without a token: %v, want a usage error naming --admin-token", err)
	}
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("idp-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runIDP(ctx, []string{"--kind", "google", "--listen", "0.0.0.0:0", "--admin-token-file", tokenFile}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL line: %v (run: %v)", err, <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	var out struct{ Kind, URL string }
	if err := json.Unmarshal([]byte(line), &out); err != nil || !strings.HasPrefix(out.URL, "http://127.0.0.1:") {
		t.Fatalf("line %q: %v", line, err)
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"idp-secret", http.StatusOK}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, out.URL+"/admin/stats", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET /admin/stats with token %q: %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after cancel", err)
	}
	if !strings.Contains(stderr.String(), "reachable from the network") {
		t.Errorf("stderr %q: want the exposure line", stderr.String())
	}
}
