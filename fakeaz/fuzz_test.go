package fakeaz

import (
	"testing"
)

// FuzzParseJWS: the CSR / X-WL-Authenticate parser never panics and accepts
// only RS256 compact JWSs.
func FuzzParseJWS(f *testing.F) {
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.c2ln")
	f.Add("eyJhbGciOiJSUzI1NiIsImpwayI6eyJtb2QiOiJBUUFCIiwiZXhwIjoiQVFBQiJ9fQ==.e30=.c2ln")
	f.Add("a.b")
	f.Add("...")
	f.Fuzz(func(t *testing.T, s string) {
		j, err := parseJWS(s)
		if err != nil {
			return
		}
		if len(j.signature) == 0 {
			t.Fatal("accepted a JWS without signature")
		}
		_, _ = j.jpkKey()
	})
}

// FuzzParseConfig: the config parser never panics and what it accepts validates.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte(`{"apps":[{"appId":"0b5b5a8c-6a7d-4c36-9a3e-2f0e4b8a1c11","realm":{"kind":"custom","name":"r","idpUrl":"http://127.0.0.1:1"}}]}`))
	f.Add([]byte(`{"apps":[],"codeLifetime":5}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		for _, a := range c.Apps {
			if err := a.Validate(); err != nil {
				t.Fatalf("accepted an invalid app: %v", err)
			}
		}
	})
}

// FuzzParseAnswer: challenge answers never panic the parser.
func FuzzParseAnswer(f *testing.F) {
	f.Add(`Bearer {"r": {"a": 1}}`, "r")
	f.Add(`Bearer {`, "r")
	f.Fuzz(func(t *testing.T, h, realm string) {
		_, _ = parseAnswer(h, realm)
	})
}
