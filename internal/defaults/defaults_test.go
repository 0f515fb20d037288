package defaults

import (
	"testing"
	"time"
)

func TestSet(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ v, want time.Duration }{{0, 5}, {-1, 5}, {3, 3}} {
		v := tc.v
		Set(&v, 5)
		if v != tc.want {
			t.Errorf("Set(%v, 5) = %v, want %v", tc.v, v, tc.want)
		}
	}
	f := 0.25
	Set(&f, 1)
	if f != 0.25 {
		t.Errorf("Set(0.25, 1) = %v, want 0.25 kept", f)
	}
}
