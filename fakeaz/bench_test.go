package fakeaz_test

import (
	"net/url"
	"testing"
)

// BenchmarkAnonymousFlow measures one device's register → authorize → token
// round trip over loopback (512-bit device key).
func BenchmarkAnonymousFlow(b *testing.B) {
	e := newEnvB(b)
	d := newDevice(b, 512)
	for b.Loop() {
		cid := e.register(b, e.app.ID, d)
		if r, _ := e.redeem(b, e.app.ID, cid, e.code(b, e.app.ID, cid, d), d.key); r.StatusCode != 200 {
			b.Fatal(r.StatusCode)
		}
	}
}

// BenchmarkClientCredentials measures service-token minting over loopback.
func BenchmarkClientCredentials(b *testing.B) {
	e := newEnvB(b)
	u := e.appURL(e.app.ID, "token")
	for b.Loop() {
		r, _ := postForm(b, e.hc, u, url.Values{"grant_type": {"client_credentials"}}, map[string]string{"Authorization": "Basic c3ZjOnMzY3JldA=="})
		if r.StatusCode != 200 {
			b.Fatal(r.StatusCode)
		}
	}
}

// BenchmarkPublicKey measures the key endpoint over loopback.
func BenchmarkPublicKey(b *testing.B) {
	e := newEnvB(b)
	u := e.appURL(e.app.ID, "publickey")
	for b.Loop() {
		if r, _ := get(b, e.hc, u, nil); r.StatusCode != 200 {
			b.Fatal(r.StatusCode)
		}
	}
}
