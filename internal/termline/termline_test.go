package termline_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/internal/termline"
)

func TestLineRewritesInPlace(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l := termline.NewWriter(&b, 20)
	_, _ = l.Write([]byte("minting 1000/1200\nminting 12"))
	_, _ = l.Write([]byte("00/1200\n\n"))
	_, _ = l.Write([]byte("a line much longer than twenty columns\n"))
	l.Clear()
	want := "\r\x1b[Kminting 1000/1200\r\x1b[Kminting 1200/1200\r\x1b[Ka line much longer…\r\x1b[K"
	if got := b.String(); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	if strings.Contains(b.String(), "\n") {
		t.Fatal("a status line must never print a newline")
	}
}

func TestLineOffATerminalWritesNothing(t *testing.T) {
	t.Parallel()
	f, err := os.CreateTemp(t.TempDir(), "log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := termline.New(f)
	if l.Enabled() {
		t.Fatal("a file is not a terminal")
	}
	if n, err := l.Write([]byte("progress\n")); n != 9 || err != nil {
		t.Fatalf("Write = %d, %v", n, err)
	}
	l.Clear()
	if st, _ := f.Stat(); st.Size() != 0 {
		t.Fatalf("wrote %d bytes to a file", st.Size())
	}
	var zero termline.Line
	_, _ = zero.Write([]byte("x\n"))
	zero.Clear()
}
