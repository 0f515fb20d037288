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
