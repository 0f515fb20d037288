package fakedevice

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// takeCode follows the SDKs' redirect parsing: Android Utils.java lines
// 48-68 (Java split, URLDecoder, case-sensitive keys), iOS Utils.swift lines
// 58-82 (components(separatedBy:), removingPercentEncoding, keys ignoring
// case).
func TestTakeCode(t *testing.T) {
	t.Parallel()
	const a, i = PlatformAndroid, PlatformIOS
	for _, tc := range []struct {
		platform      Platform
		loc, code, wl string
		err           error
	}{
		{a, "http://localhost?code=abc_-9", "abc_-9", "", nil},
		{i, "http://localhost?code=abc_-9", "abc_-9", "", nil},
		{a, "http://localhost?code=abc&wl_result=%7B%22a%22%3A1%7D", "abc", `{"a":1}`, nil},
		{i, "http://localhost?wl_result=%7B%7D&code=abc#frag", "abc", "{}", nil},
		// Java's split drops the trailing empty strings of "ab==": the code is "ab".
		{a, "http://localhost?code=ab==", "ab", "", nil},
		// Swift keeps them: three pieces, the part is skipped, no code.
		{i, "http://localhost?code=ab==", "", "", ErrBadResponse},
		{a, "http://localhost?code=a%2Bb", "a+b", "", nil},
		{i, "http://localhost?code=a%2Bb", "a+b", "", nil},
		// URLDecoder turns '+' into a space; removingPercentEncoding does not.
		{a, "http://localhost?code=a+b", "a b", "", nil},
		{i, "http://localhost?code=a+b", "a+b", "", nil},
		// A bad escape throws on Android; iOS gets nil.
		{a, "http://localhost?code=a%zz", "", "", ErrBadResponse},
		{i, "http://localhost?code=a%zz", "", "", ErrBadResponse},
		// Keys: exact on Android, any case on iOS.
		{a, "http://localhost?Code=abc", "", "", ErrBadResponse},
		{i, "http://localhost?Code=abc", "abc", "", nil},
		// Android needs an absolute URL (new URL(location)).
		{a, "/callback?code=abc", "", "", ErrBadResponse},
		{i, "/callback?code=abc", "abc", "", nil},
		// wl_result present but not JSON: both fail.
		{a, "http://localhost?code=abc&wl_result=nope", "", "", ErrBadResponse},
		{i, "http://localhost?code=abc&wl_result=nope", "", "", ErrBadResponse},
		// The query mentions wl_result without a value: Android fails (new JSONObject(null)).
		{a, "http://localhost?code=abc&wl_result", "", "", ErrBadResponse},
		{i, "http://localhost?code=abc&wl_result", "abc", "", nil},
		// Failure: Android aborts; iOS still takes the code.
		{a, "http://localhost?code=abc&wl_result=%7B%22WL-Authentication-Failure%22%3A%7B%22r%22%3A%7B%7D%7D%7D", "", `{"WL-Authentication-Failure":{"r":{}}}`, ErrAuthFailure},
		{i, "http://localhost?code=abc&wl_result=%7B%22WL-Authentication-Failure%22%3A%7B%22r%22%3A%7B%7D%7D%7D", "abc", `{"WL-Authentication-Failure":{"r":{}}}`, nil},
		{i, "http://localhost?wl_result=%7B%22WL-Authentication-Failure%22%3A%7B%22r%22%3A%7B%7D%7D%7D", "", `{"WL-Authentication-Failure":{"r":{}}}`, ErrAuthFailure},
		{a, "http://localhost", "", "", ErrBadResponse},
		{i, "http://localhost?error=access_denied", "", "", ErrBadResponse},
	} {
		d := &Device{cfg: Config{Platform: tc.platform}, sdk: sdkOf(tc.platform)}
		var locs []string
		if tc.loc != "" {
			locs = []string{tc.loc}
		}
		err := d.takeCode(context.Background(), locs)
		if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) || d.code != tc.code || d.wlResult != tc.wl {
			t.Errorf("%s takeCode(%q): code %q wl %q err %v; want %q %q %v", tc.platform, tc.loc, d.code, d.wlResult, err, tc.code, tc.wl, tc.err)
		}
	}
}

func TestIsRedirect(t *testing.T) {
	t.Parallel()
	for status := 200; status < 600; status++ {
		wantA := strings.Contains(" 300 301 302 303 307 308 ", " "+itoa(status)+" ")
		wantI := status >= 300 && status <= 398
		if got := androidSDK.isRedirect(status); got != wantA {
			t.Errorf("android %d: %v", status, got)
		}
		if got := iosSDK.isRedirect(status); got != wantI {
			t.Errorf("ios %d: %v", status, got)
		}
	}
}

func itoa(n int) string {
	return string(rune('0'+n/100)) + string(rune('0'+n/10%10)) + string(rune('0'+n%10))
}

func TestIsCompositeChallenge(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		www     []string
		android bool
		ios     bool
	}{
		{401, []string{"WL-Composite-Challenge"}, true, true},
		{401, []string{"wl-composite-challenge"}, true, false},
		{401, []string{"WL-Composite-Challenge realm=x"}, false, false},
		{401, []string{"WL-Composite-Challenge", "Bearer"}, true, false},
		{401, []string{"Bearer", "WL-Composite-Challenge"}, false, false},
		{403, []string{"WL-Composite-Challenge"}, false, true},
		{200, []string{"WL-Composite-Challenge"}, false, false},
		{401, nil, false, false},
	} {
		if got := androidSDK.isCompositeChallenge(tc.status, tc.www); got != tc.android {
			t.Errorf("android %d %q: %v", tc.status, tc.www, got)
		}
		if got := iosSDK.isCompositeChallenge(tc.status, tc.www); got != tc.ios {
			t.Errorf("ios %d %q: %v", tc.status, tc.www, got)
		}
	}
}

func TestSDKBase64Decoders(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in            string
		android, ios  string // "" with errX: an error
		errAnd, errIO bool
	}{
		{"eyJhIjoxfQ", `{"a":1}`, `{"a":1}`, false, false},
		{"eyJhIjoxfQ==", `{"a":1}`, `{"a":1}`, false, false},
		// '-' is skipped by Android (the rest shifts), refused by iOS.
		{"eyJh-IjoxfQ", `{"a":1}`, "", false, true},
		// A character replaced by '-' loses 6 bits: the rest is garbage.
		{"eyJhIj-xfQ0", "garbage", "", false, true},
		{"eyJhIjoxf", "", "", true, true},
	} {
		a, err := decodeAndroidDefault(tc.in)
		if tc.android == "garbage" {
			if err != nil || json.Valid(a) || len(a) == 0 {
				t.Errorf("android %q: %q %v, want non-JSON bytes", tc.in, a, err)
			}
		} else if (err != nil) != tc.errAnd || (!tc.errAnd && string(a) != tc.android) {
			t.Errorf("android %q: %q %v", tc.in, a, err)
		}
		i, err := decodeIOS(tc.in)
		if (err != nil) != tc.errIO || (!tc.errIO && string(i) != tc.ios) {
			t.Errorf("ios %q: %q %v", tc.in, i, err)
		}
	}
}

// NameUUIDFromBytes is Java's UUID.nameUUIDFromBytes: MD5, version 3, IETF variant.
func TestNameUUIDFromBytes(t *testing.T) {
	t.Parallel()
	// md5("hello") = 5d41402abc4b2a76b9719d911017c592: version nibble 3, variant 10xx.
	if got, want := NameUUIDFromBytes([]byte("hello")), "5d41402a-bc4b-3a76-b971-9d911017c592"; got != want {
		t.Errorf("NameUUIDFromBytes(hello) = %s, want %s", got, want)
	}
}

func FuzzTakeCode(f *testing.F) {
	f.Add("http://localhost?code=abc&wl_result=%7B%7D", true)
	f.Add("http://localhost?wl_result=%7B%22WL-Authentication-Failure%22%3A%7B%22r%22%3A1%7D%7D&code=a%zz", false)
	f.Fuzz(func(t *testing.T, loc string, android bool) {
		p := PlatformIOS
		if android {
			p = PlatformAndroid
		}
		d := &Device{cfg: Config{Platform: p}, sdk: sdkOf(p)}
		err := d.takeCode(context.Background(), []string{loc})
		if err != nil && !errors.Is(err, ErrBadResponse) && !errors.Is(err, ErrAuthFailure) {
			t.Fatalf("error %v wraps neither ErrBadResponse nor ErrAuthFailure", err)
		}
		if err == nil && d.code == "" {
			t.Fatal("no error and no code")
		}
	})
}
