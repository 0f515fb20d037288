package reference_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mcaspec/mcaspec/reference"
)

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{"Bearer a.b.c", "bearer\ta.b.c  d.e.f", "Basic x", "", "Bearer", "Bearer a b c", "Bearer \"x\"", "Bearer a\r\nb"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		access, id, err := reference.ParseHeader(h)
		if err != nil {
			var e *reference.Error
			if !errors.As(err, &e) || (e.Status != 400 && e.Status != 401) {
				t.Fatalf("ParseHeader(%q): %v", h, err)
			}
			return
		}
		if access == "" || len(access)+len(id) > len(h) {
			t.Fatalf("ParseHeader(%q) = %q, %q", h, access, id)
		}
	})
}

// FuzzValidate feeds arbitrary headers (seeded with real and broken tokens)
// to the full validator; it must never panic and never answer other than
// 400, 401 or 503 for inputs that are not valid tokens.
func FuzzValidate(f *testing.F) {
	fx := newFixture(f, nil)
	f.Add(fx.pair(f))
	f.Add("Bearer " + fx.access(f, fx.fa, appA, "c"))
	f.Add("Bearer e30.e30.e30")
	f.Add("Bearer eyJhbGciOiJSUzI1NiJ9.W10.AAAA")
	f.Add(`Bearer eyJhbGciOiJub25lIn0.eyJleHAiOjF9.`)
	f.Fuzz(func(t *testing.T, h string) {
		sc, err := fx.v.Validate(context.Background(), appA, h)
		if err == nil {
			if sc == nil {
				t.Fatal("nil context without error")
			}
			return
		}
		var e *reference.Error
		if !errors.As(err, &e) || (e.Status != 400 && e.Status != 401 && e.Status != 503) {
			t.Fatalf("Validate(%q): %v", h, err)
		}
	})
}
