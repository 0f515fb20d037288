package main

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
)

func TestDeviceCommandUsage(t *testing.T) {
	t.Parallel()
	ok := []string{"--server-url", "http://127.0.0.1:1/imf-authserver", "--app-id", "a", "--bundle-id", "b"}
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--app-id", "a"}, "required"},
		{[]string{"--server-url", "127.0.0.1:9080/imf-authserver", "--app-id", "a", "--bundle-id", "b"}, "--server-url"},
		{[]string{"--server-url", "ftp://fakeaz.example/imf-authserver", "--app-id", "a", "--bundle-id", "b"}, "not an absolute http(s) URL"},
		{append(ok[:6:6], "--call", "example.com/x"), "--call"},
		{append(ok[:6:6], "--platform", "winphone"), "--platform"},
		{append(ok[:6:6], "--quirks", "padded,nonsense"), "nonsense"},
		{append(ok[:6:6], "--key-bits", "128"), "128"},
		{append(ok[:6:6], "--fleet", "3", "--device-id", "x"), "--device-id"},
	} {
		err := runDevice(t.Context(), tc.args, io.Discard, io.Discard)
		if !errors.Is(err, errUsage) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: err = %v, want a usage error containing %q", tc.args, err, tc.msg)
		}
	}
}

func TestDeviceCommandRuns(t *testing.T) {
	t.Parallel()
	az, err := fakeaz.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := az.Start("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = az.Close() })
	app, err := az.AddApp(fakeaz.App{BundleID: "com.example.app"})
	if err != nil {
		t.Fatal(err)
	}
	res := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if len(strings.Fields(r.Header.Get("Authorization"))) != 3 {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"hello":"device"}`))
	}))
	t.Cleanup(res.Close)
	base := []string{"--server-url", az.URL(), "--app-id", app.ID, "--bundle-id", "com.example.app", "--key-bits", "512"}
	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"login", []string{"--quirks", "all", "--logout"}, []string{"clientId:", "Authorization: Bearer ", `"sub": "::`, "logged out"}},
		{"call", []string{"--platform", "android", "--call", res.URL}, []string{"status:        200 OK", `{"hello":"device"}`}},
		{"fleet", []string{"--fleet", "12", "--concurrency", "3", "--call", res.URL}, []string{"12 ok, 0 failed", "devices/s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			if err := runDevice(t.Context(), append(base[:len(base):len(base)], tc.args...), &out, &errOut); err != nil {
				t.Fatalf("%v\nstderr: %s", err, errOut.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
			if tc.name == "fleet" && !strings.Contains(errOut.String(), "progress: 12/12 done, 0 failed") {
				t.Errorf("progress: %s", errOut.String())
			}
		})
	}
}
