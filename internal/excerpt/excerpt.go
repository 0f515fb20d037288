// Package excerpt cuts text (response bodies, tokens, URLs) for error
// messages and reports: the one way the module shortens what it shows.
package excerpt

import (
	"strings"
	"unicode/utf8"
)

// Ellipsis marks a cut.
const Ellipsis = "…"

// Of returns b as text of at most n bytes plus Ellipsis when cut: invalid
// UTF-8 becomes U+FFFD (one per run of bad bytes) and the cut falls on a
// rune boundary, so the result is always valid UTF-8.
func Of(b []byte, n int) string { return String(string(b), n) }

// String is Of for a string.
func String(s string, n int) string {
	s = strings.ToValidUTF8(s, string(utf8.RuneError))
	if len(s) <= n {
		return s
	}
	return Prefix(s, n) + Ellipsis
}

// Prefix returns the longest prefix of s of at most n bytes that does not
// end inside a multi-byte rune.
func Prefix(s string, n int) string {
	if n >= len(s) {
		return s
	}
	if n < 0 {
		n = 0
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
