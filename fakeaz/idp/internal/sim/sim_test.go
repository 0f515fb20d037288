package sim

import (
	"strings"
	"testing"
)

func TestCheckListen(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want, err string }{
		{"", "127.0.0.1:0", ""},
		{"127.0.0.1:8080", "127.0.0.1:8080", ""},
		{"localhost:9", "127.0.0.1:9", ""},
		{":9", ":9", ""},
		{"[::1]:0", "[::1]:0", ""},
		{"127.0.0.2:0", "127.0.0.2:0", ""},
		{"0.0.0.0:0", "0.0.0.0:0", ""},
		{"[::]:0", "[::]:0", ""},
		{"example.com:80", "example.com:80", ""},
		{"127.0.0.1", "", "want host:port"},
	}
	for _, tc := range tests {
		got, err := CheckListen(tc.in)
		if got != tc.want || (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("CheckListen(%q) = %q, %v; want %q, %q", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, err string }{
		{`{"a":1}`, ""},
		{` {"a":1} `, ""},
		{``, "empty"},
		{`[]`, "not a JSON object"},
		{`{"a":`, "invalid JSON"},
		{`{} {}`, "trailing"},
	}
	for _, tc := range tests {
		var v map[string]any
		err := Unmarshal([]byte(tc.in), &v)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Unmarshal(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
}

func TestExcerpt(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{`{"error":"invalid_token","error_description":"Token expired"}`, "invalid_token: Token expired"},
		{`{"error":{"code":1},"error_description":"d"}`, "d"},
		{` plain `, "plain"},
		{strings.Repeat("x", 300), strings.Repeat("x", 200) + "…"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100) + "…"}, // cut on a rune boundary
	}
	for _, tc := range tests {
		if got := Excerpt([]byte(tc.in)); got != tc.want {
			t.Errorf("Excerpt(%.20q) = %.30q, want %.30q", tc.in, got, tc.want)
		}
	}
}

func FuzzUnmarshal(f *testing.F) {
	for _, s := range []string{`{"headers":{}}`, `[]`, ``, `{"a":`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var v map[string]any
		if err := Unmarshal(b, &v); err == nil && v == nil {
			t.Errorf("Unmarshal(%q) succeeded without an object", b)
		}
	})
}
