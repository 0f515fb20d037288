package mdtext

import (
	"errors"
	"strings"
	"testing"
)

// failAfter accepts n writes, then fails every write.
type failAfter struct {
	n   int
	got strings.Builder
}

var errFull = errors.New("full")

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n == 0 {
		return 0, errFull
	}
	f.n--
	return f.got.Write(p)
}

func TestWriterKeepsFirstError(t *testing.T) {
	t.Parallel()
	f := &failAfter{n: 1}
	w := NewWriter(f)
	w.Printf("| %s |\n", "a")
	w.Printf("| %s |\n", "b")
	f.n = 1 // a later write would succeed: it must not be made
	w.Printf("| %s |\n", "c")
	if !errors.Is(w.Err(), errFull) {
		t.Errorf("Err() = %v, want %v", w.Err(), errFull)
	}
	if got := f.got.String(); got != "| a |\n" {
		t.Errorf("wrote %q, want only the first line", got)
	}
}
