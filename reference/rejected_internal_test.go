package reference

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// The rejected-token cache keeps whole tokens: a flood of distinct, large
// rejected tokens stays under MaxRejectedCacheBytes (by bytes, not only by
// entries), and the count matches what the entries hold.
func TestRejectedCacheIsBoundedByBytes(t *testing.T) {
	t.Parallel()
	v, err := New(Config{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "a1b2c3d4-0000-4000-8000-00000000000a"})
	if err != nil {
		t.Fatal(err)
	}
	const tokBytes = 15 << 10 // under MaxHeaderBytes: 10,000 entries would hold 150 MiB
	pad := strings.Repeat("A", tokBytes)
	ctx := context.Background()
	for i := range 3000 {
		tok := "eyJhbGciOiJub25lIn0." + pad + "." + fmt.Sprintf("%08d", i) // distinct tails: distinct cache keys
		if _, err := v.Validate(ctx, "a1b2c3d4-0000-4000-8000-00000000000a", "Bearer "+tok); err == nil {
			t.Fatal("a garbage token was accepted")
		}
		if b := v.rejectedBytes.Load(); b > MaxRejectedCacheBytes {
			t.Fatalf("after %d tokens the rejected cache holds %d bytes, over %d", i+1, b, MaxRejectedCacheBytes)
		}
	}
	if n := v.rejected.Len(); n == 0 || n > MaxRejectedCacheBytes/tokBytes {
		t.Errorf("%d entries of %d bytes cached, want between 1 and %d", n, tokBytes, MaxRejectedCacheBytes/tokBytes)
	}
	var sum int64
	for _, k := range v.rejected.Keys() {
		e, _ := v.rejected.Peek(k)
		sum += e.size()
	}
	if got := v.rejectedBytes.Load(); got != sum {
		t.Errorf("the byte count says %d, the entries hold %d", got, sum)
	}
}
