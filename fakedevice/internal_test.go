package fakedevice

import (
	"errors"
	"testing"
)

// The SDKs split the redirect query on '&' and then on '=', without URL
// decoding: a code containing '=' is truncated (why codes must not have it).
func TestTakeCodeSplitsOnEquals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		loc, code, wl string
		err           error
	}{
		{"http://localhost?code=abc_-9", "abc_-9", "", nil},
		{"http://localhost?code=abc&wl_result=%7B%22a%22%3A1%7D", "abc", "%7B%22a%22%3A1%7D", nil},
		{"http://localhost?wl_result=x&code=abc#frag", "abc", "x", nil},
		{"http://localhost?code=ab==", "ab", "", nil},
		{"http://localhost?code=a%2Bb", "a%2Bb", "", nil},
		{"http://localhost", "", "", ErrBadResponse},
		{"http://localhost?error=access_denied", "", "", ErrBadResponse},
		{"", "", "", ErrBadResponse},
	} {
		d := &Device{}
		err := d.takeCode(tc.loc)
		if !errors.Is(err, tc.err) || d.code != tc.code || d.wlResult != tc.wl {
			t.Errorf("takeCode(%q): code %q wl %q err %v; want %q %q %v", tc.loc, d.code, d.wlResult, err, tc.code, tc.wl, tc.err)
		}
	}
}
