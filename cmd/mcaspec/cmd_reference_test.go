package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestReferenceCommandUsage(t *testing.T) {
	t.Parallel()
	az := []string{"--server-url", "http://127.0.0.1:1/imf-authserver"}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{append([]string{"--downstream-hosts", "http://sink:9001"}, az...), "MCA_DOWNSTREAM_HOSTS"},
		{append([]string{"--downstream-hosts", "sink:x"}, az...), "port"},
		{append([]string{"--listen", "127.0.0.1"}, az...), "host:port"},
	} {
		err := runReference(t.Context(), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want a usage error containing %q", tc.args, err, tc.msg)
		}
	}
}

func TestReferenceCommandRuns(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	pr, pw := io.Pipe()
	var stderr strings.Builder
	done := make(chan error, 1)
	go func() {
		done <- runReference(ctx, []string{"--server-url", "http://127.0.0.1:1/imf-authserver", "--listen", "127.0.0.1:0", "--downstream-hosts", "loopback,sink.internal:9001"}, pw, &stderr)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("no URL printed: %v (%v)", err, <-done)
	}
	resp, err := http.Get(strings.TrimSpace(line) + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("healthz: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if stderr.Len() != 0 {
		t.Errorf("stderr %q on loopback, want nothing", stderr.String())
	}
}
