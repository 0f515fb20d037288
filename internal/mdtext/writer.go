package mdtext

import (
	"fmt"
	"io"
)

// Writer writes a Markdown document piece by piece and keeps the first
// write error: after it, writes are dropped, and Err reports it once the
// document is done.
type Writer struct {
	w   io.Writer
	err error
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// Printf writes like fmt.Fprintf unless an earlier write failed.
func (e *Writer) Printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// Err is the first write error, nil when every write succeeded.
func (e *Writer) Err() error { return e.err }
