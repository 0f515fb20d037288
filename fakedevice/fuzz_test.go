package fakedevice_test

import (
	"errors"
	"testing"

	"github.com/mcaspec/mcaspec/fakedevice"
)

func FuzzParseChallenge(f *testing.F) {
	f.Add([]byte("/*-secure-\n{\"challenges\": {\"r\": {\"message\": \"x\"}}}*/"))
	f.Add([]byte("/*-secure-\n*/"))
	f.Add([]byte(`{"challenges": {}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := fakedevice.ParseChallenge(body)
		if err != nil && !errors.Is(err, fakedevice.ErrBadChallenge) {
			t.Fatalf("error %v does not wrap ErrBadChallenge", err)
		}
		if err == nil && len(c) == 0 {
			t.Fatal("no error and no challenges")
		}
	})
}

func FuzzDecodeIDToken(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI6OmMifQ.c2ln", false)
	f.Add("a.b_-.c", true)
	f.Add("..", false)
	f.Fuzz(func(t *testing.T, tok string, std bool) {
		if _, err := fakedevice.DecodeIDToken(tok, std); err != nil && !errors.Is(err, fakedevice.ErrIDToken) {
			t.Fatalf("error %v does not wrap ErrIDToken", err)
		}
	})
}

func FuzzDecodeIDTokenAs(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiI6OmMifQ.c2ln", true)
	f.Add("a.eyJh-IjoxfQ.c", false)
	f.Add("a.eyJhIjoxf=Q.c", true)
	f.Fuzz(func(t *testing.T, tok string, android bool) {
		p := fakedevice.PlatformIOS
		if android {
			p = fakedevice.PlatformAndroid
		}
		if _, err := fakedevice.DecodeIDTokenAs(p, tok); err != nil && !errors.Is(err, fakedevice.ErrIDToken) {
			t.Fatalf("error %v does not wrap ErrIDToken", err)
		}
	})
}

func FuzzIsAuthChallenge(f *testing.F) {
	f.Add(401, `Bearer realm="imfAuthentication"`, "")
	f.Add(403, `Basic realm="x"`, `Bearer realm="imfAuthentication"`)
	f.Fuzz(func(t *testing.T, status int, a, b string) {
		www := []string{a, b}
		android := fakedevice.IsAuthChallenge(fakedevice.PlatformAndroid, status, www)
		ios := fakedevice.IsAuthChallenge(fakedevice.PlatformIOS, status, www)
		// Whatever Android recognises in the first value, iOS recognises in the joined ones.
		if android && !ios {
			t.Fatalf("%d %q: android but not ios", status, www)
		}
		if fakedevice.IsAuthChallengeForAll(status, www) != (android && ios) {
			t.Fatal("IsAuthChallengeForAll disagrees")
		}
	})
}
