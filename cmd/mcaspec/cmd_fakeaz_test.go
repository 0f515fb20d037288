package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFakeAZCommandUsage(t *testing.T) {
	t.Setenv(adminTokenEnv, "") // not parallel: the refusal below needs no token in the environment
	dir := t.TempDir()
	existing := filepath.Join(dir, "exists.pem")
	empty := filepath.Join(dir, "empty")
	for _, p := range []string{existing, empty} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--listen", "nonsense"}, "--listen"},
		{[]string{"--listen", "127.0.0.1:0", "--public-url", "fakeaz:9080"}, "--public-url"},
		{[]string{"--listen", "127.0.0.1:0", "--public-url", "ftp://az.example/imf-authserver"}, "absolute http or https URL"},
		{[]string{"--listen", "127.0.0.1:0", "--public-url", "http://az.example/wrong-path"}, "/imf-authserver"},
		{[]string{"--listen", "0.0.0.0:0"}, "--admin-token"},
		{[]string{"--listen", ":0"}, "--admin-listen"},
		{[]string{"--listen", "127.0.0.1:0", "--admin-listen", "0.0.0.0:0"}, "--admin-token"},
		{[]string{"--listen", "127.0.0.1:0", "--admin-listen", "9081"}, "--admin-listen"},
		{[]string{"--listen", "127.0.0.1:0", "--admin-token", "a", "--admin-token-file", empty}, "not both"},
		{[]string{"--listen", "127.0.0.1:0", "--admin-token-file", empty}, "empty"},
		{[]string{"--listen", "127.0.0.1:0", "--admin-token-file", filepath.Join(dir, "missing")}, "--admin-token-file"},
		{[]string{"--listen", "127.0.0.1:0", "--key", filepath.Join(dir, "missing")}, "--key"},
		{[]string{"--listen", "127.0.0.1:0", "--key", empty}, "no PEM block"},
		{[]string{"--listen", "127.0.0.1:0", "--write-key", existing}, "exists"},
		{[]string{"--listen", "127.0.0.1:0", "--key", existing, "--write-key", filepath.Join(dir, "new.pem")}, "not both"},
	} {
		err := runFakeAZ(t.Context(), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want a usage error containing %q", tc.args, err, tc.msg)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "new.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused command wrote a key: %v", err)
	}
}

// TestFakeAZCommandRuns: every interface with a token file, a request-derived serverUrl and a
// fresh key; the admin API answers 401 without the token and 200 with it.
func TestFakeAZCommandRuns(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte("cli-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "az.pem")
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runFakeAZ(ctx, []string{"--listen", "0.0.0.0:0", "--public-url", "from-request", "--write-key", keyFile,
			"--admin-token-file", tokenFile, "--quiet"}, pw, &stderr)
		pw.Close()
	}()
	lines := map[string]string{}
	br := bufio.NewReader(pr)
	for len(lines) < 4 {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("output ended after %v: %v (run: %v)", lines, err, <-done)
		}
		k, v, _ := strings.Cut(strings.TrimSpace(line), ": ")
		lines[k] = v
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	if lines["signing key"] != "wrote "+keyFile || !strings.HasPrefix(lines["serverUrl"], "http://127.0.0.1:") || lines["serverUrl of each request"] == "" {
		t.Errorf("output %q", lines)
	}
	adminURL, _, _ := strings.Cut(lines["admin API"], " ")
	for _, tc := range []struct {
		token string
		want  int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"cli-secret", http.StatusOK}} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, adminURL+"stats", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("GET %sstats with token %q: %d, want %d", adminURL, tc.token, resp.StatusCode, tc.want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run returned %v after cancel", err)
	}
	if !strings.Contains(stderr.String(), "reachable from the network") {
		t.Errorf("stderr %q: want the exposure line", stderr.String())
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v", err)
	}
}
