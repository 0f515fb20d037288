package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// Bad --focus and --target values are usage errors (exit 2) that say what
// is wrong and what to do, before anything starts.
func TestConformanceUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown focus ID", []string{"--focus", "HDR-099"}, []string{`no such case "HDR-099"`, "closest: HDR-009"}},
		{"one unknown among known", []string{"--focus", "HDR-001,SIG-14"}, []string{`"SIG-14"`, "SIG-014", "--list"}},
		{"lower-case ID", []string{"--focus", "hdr-003"}, []string{"closest: HDR-003"}},
		{"empty focus list", []string{"--focus", " , "}, []string{"names no case ID"}},
		{"file URL", []string{"--target", "file:///etc/passwd"}, []string{"--target", "http:// or https://"}},
		{"no scheme", []string{"--target", "127.0.0.1:3000"}, []string{"--target", "http:// or https://"}},
		{"no host", []string{"--target", "http://"}, []string{"no host"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), append([]string{"conformance"}, tt.args...), &stdout, &stderr)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (usage); stderr: %s", code, stderr.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr %q does not say %q", stderr.String(), w)
				}
			}
		})
	}
}
