// Package termline shows progress as one status line on a terminal,
// rewritten in place: each line written replaces the one shown. Off a
// terminal (CI logs, a pipe, a file) or with CI=true it writes nothing, so
// logs keep the results only.
package termline

import (
	"bytes"
	"io"
	"os"
	"sync"
	"unicode/utf8"

	"golang.org/x/term"
)

// DefaultWidth is the line width used when the terminal's is unknown.
const DefaultWidth = 100

// Line is a status line. Its zero value is off; it is safe for
// concurrent use.
type Line struct {
	mu      sync.Mutex
	w       io.Writer
	on      bool
	width   int
	pending []byte
	shown   bool
}

// New returns a status line on f when f is a terminal (and CI is not
// "true", and TERM is not "dumb"); else a Line that drops what it is given.
func New(f *os.File) *Line {
	if f == nil || !term.IsTerminal(int(f.Fd())) || os.Getenv("CI") == "true" || os.Getenv("TERM") == "dumb" {
		return &Line{}
	}
	width := DefaultWidth
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 10 {
		width = w
	}
	return &Line{w: f, on: true, width: width}
}

// NewWriter returns a status line on w (no terminal check), width columns wide.
func NewWriter(w io.Writer, width int) *Line {
	if width <= 10 {
		width = DefaultWidth
	}
	return &Line{w: w, on: true, width: width}
}

// Enabled tells whether the line is shown (a terminal).
func (l *Line) Enabled() bool { return l != nil && l.on }

// Write shows each complete line of p in place of the line shown; a
// trailing partial line waits for its newline. It never fails.
func (l *Line) Write(p []byte) (int, error) {
	if !l.Enabled() {
		return len(p), nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = append(l.pending, p...)
	for {
		i := bytes.IndexByte(l.pending, '\n')
		if i < 0 {
			break
		}
		line := bytes.TrimSpace(l.pending[:i])
		l.pending = l.pending[i+1:]
		if len(line) > 0 {
			l.show(string(line))
		}
	}
	return len(p), nil
}

// show rewrites the line: carriage return, erase to the end of the line,
// the text cut to the width (a wrapped line could not be rewritten).
func (l *Line) show(s string) {
	if utf8.RuneCountInString(s) > l.width-1 {
		r := []rune(s)
		s = string(r[:l.width-2]) + "…"
	}
	_, _ = io.WriteString(l.w, "\r\x1b[K"+s)
	l.shown = true
}

// Clear erases the line shown, if any: call it before printing results.
func (l *Line) Clear() {
	if !l.Enabled() {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.pending = l.pending[:0]
	if l.shown {
		_, _ = io.WriteString(l.w, "\r\x1b[K")
		l.shown = false
	}
}
