package kit

import (
	"net/http"
	"testing"
)

// OffSite reads a Location as a browser would (WHATWG URL): tabs and
// newlines anywhere are dropped, "\" is "/", a leading "//" names a host.
func TestOffSiteReadsLikeABrowser(t *testing.T) {
	t.Parallel()
	b := &Browser{env: &Env{k: &Kit{Target: "http://127.0.0.1:8080"}}}
	for _, tc := range []struct {
		loc string
		off bool
	}{
		{"/web/protected/landing", false},
		{"/web/protected/%09/evil.example/landing", false},
		{"//evil.example/landing", true},
		{"///evil.example/landing", true},
		{"/\t/evil.example/landing", true},
		{"/\n/evil.example", true},
		{`/\evil.example`, true},
		{" \t//evil.example", true},
		{"http://evil.example/", true},
		{"http://127.0.0.1:8080/web/protected", false},
		{"", false},
	} {
		x := Exchange{Status: http.StatusFound, URL: "http://127.0.0.1:8080/web/callback", Header: http.Header{"Location": {tc.loc}}}
		if got := b.OffSite(x); got != tc.off {
			t.Errorf("OffSite(Location %q) = %v, want %v", tc.loc, got, tc.off)
		}
	}
}
