package excerpt_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/mcaspec/mcaspec/internal/excerpt"
)

func TestOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"short", "hello", 10, "hello"},
		{"exact", "hello", 5, "hello"},
		{"cut ASCII", "hello world", 5, "hello…"},
		{"cut before a two-byte rune", "abcé", 4, "abc…"},  // é is 2 bytes at 3..4
		{"cut after a two-byte rune", "abcéf", 5, "abcé…"}, // boundary exactly after é
		{"cut inside a four-byte rune", "ab😀cd", 4, "ab…"}, // 😀 is 4 bytes at 2..5
		{"cut after a four-byte rune", "ab😀cd", 6, "ab😀…"},
		{"invalid bytes replaced", "a\xffb", 10, "a\uFFFDb"},
		{"run of invalid bytes is one replacement", "a\xff\xfe\xfdb", 10, "a\uFFFDb"},
		{"truncated rune at the end", "ab\xe2\x82", 10, "ab\uFFFD"},
		{"cut after replacement", "\xff\xffabc", 4, "\uFFFDa…"},
		{"zero", "abc", 0, "…"},
		{"empty", "", 3, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := excerpt.Of([]byte(tc.in), tc.n)
			if got != tc.want {
				t.Errorf("Of(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("Of(%q, %d) = %q is not valid UTF-8", tc.in, tc.n, got)
			}
		})
	}
}

func FuzzString(f *testing.F) {
	f.Add("ab😀cd", 3)
	f.Add("a\xff\xfeb", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n < 0 || n > 1<<16 {
			return
		}
		got := excerpt.String(s, n)
		if !utf8.ValidString(got) {
			t.Fatalf("String(%q, %d) = %q: invalid UTF-8", s, n, got)
		}
		if body, cut := strings.CutSuffix(got, excerpt.Ellipsis); cut && len(body) > n {
			t.Fatalf("String(%q, %d) = %q: longer than %d bytes before the ellipsis", s, n, got, n)
		}
	})
}
