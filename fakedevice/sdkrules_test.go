package fakedevice_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/mcaspec/mcaspec/fakedevice"
)

// IsAuthChallenge follows Android security/mca/api/MCAAuthorizationManager.java
// lines 164-172 with internal/AuthorizationHeaderHelper.java lines 72-85
// (first value; starts with bearer; contains "imfauthentication" with quotes;
// case-insensitive) and iOS Source/mca/api/MCAAuthorizationManager.swift
// lines 154-163 (values joined; contains bearer and "imfauthentication" with
// quotes; case-insensitive).
func TestIsAuthChallenge(t *testing.T) {
	t.Parallel()
	const q = `Bearer realm="imfAuthentication"`
	for _, tc := range []struct {
		name         string
		status       int
		www          []string
		android, ios bool
	}{
		{"quoted realm", 401, []string{q}, true, true},
		{"quoted realm, 403", 403, []string{q}, true, true},
		{"quoted realm with error", 401, []string{`Bearer realm="imfAuthentication", error="invalid_token"`}, true, true},
		{"scheme and realm in other case", 401, []string{`BEARER REALM="IMFAUTHENTICATION"`}, true, true},
		{"scope before realm", 401, []string{`Bearer scope="x", realm="imfAuthentication"`}, true, true},
		{"unquoted realm", 401, []string{`Bearer realm=imfAuthentication`}, false, false},
		{"single-quoted realm", 401, []string{`Bearer realm='imfAuthentication'`}, false, false},
		{"Basic scheme", 401, []string{`Basic realm="imfAuthentication"`}, false, false},
		{"no scheme", 401, []string{`realm="imfAuthentication"`}, false, false},
		{"other realm", 401, []string{`Bearer realm="other"`}, false, false},
		{"bearer later in the value", 401, []string{`Basic realm="imfAuthentication", Bearer`}, false, true},
		{"Bearer challenge in the second header", 401, []string{`Basic realm="x"`, q}, false, true},
		{"Bearer first, realm in the second header", 401, []string{`Bearer`, `Basic realm="imfAuthentication"`}, false, true},
		{"Bearer challenge first of two", 401, []string{q, `Basic realm="x"`}, true, true},
		{"no header", 401, nil, false, false},
		{"empty header", 401, []string{""}, false, false},
		{"status 400", 400, []string{q}, false, false},
		{"status 500", 500, []string{q}, false, false},
		{"status 200", 200, []string{q}, false, false},
	} {
		if got := fakedevice.IsAuthChallenge(fakedevice.PlatformAndroid, tc.status, tc.www); got != tc.android {
			t.Errorf("%s: android = %v, want %v", tc.name, got, tc.android)
		}
		if got := fakedevice.IsAuthChallenge(fakedevice.PlatformIOS, tc.status, tc.www); got != tc.ios {
			t.Errorf("%s: ios = %v, want %v", tc.name, got, tc.ios)
		}
		if got := fakedevice.IsAuthChallengeForAll(tc.status, tc.www); got != (tc.android && tc.ios) {
			t.Errorf("%s: for all = %v", tc.name, got)
		}
		resp := &http.Response{StatusCode: tc.status, Header: http.Header{"Www-Authenticate": tc.www}}
		if got := fakedevice.NamesIMFAuthentication(resp); got != (tc.android && tc.ios) {
			t.Errorf("%s: NamesIMFAuthentication = %v", tc.name, got)
		}
	}
	if fakedevice.IsAuthChallenge("windows", 401, []string{q}) {
		t.Error("unknown platform recognised a challenge")
	}
}

// How a catalogue case judges a refusal: every platform's SDK must recognise it.
func ExampleIsAuthChallenge() {
	for _, www := range []string{`Bearer realm="imfAuthentication"`, `Bearer realm=imfAuthentication`} {
		fmt.Println(fakedevice.IsAuthChallenge(fakedevice.PlatformAndroid, 401, []string{www}),
			fakedevice.IsAuthChallenge(fakedevice.PlatformIOS, 401, []string{www}))
	}
	// Output:
	// true true
	// false false
}
