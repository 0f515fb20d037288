package sleep

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestForEndsWithContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := For(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("For(cancelled ctx, 1h) = %v, want context.Canceled", err)
	}
	if err := Until(ctx, time.Now().Add(time.Hour)); !errors.Is(err, context.Canceled) {
		t.Errorf("Until(cancelled ctx, in 1h) = %v, want context.Canceled", err)
	}
}

func TestForWaits(t *testing.T) {
	t.Parallel()
	start := time.Now()
	if err := For(context.Background(), 20*time.Millisecond); err != nil {
		t.Fatalf("For(20ms) = %v, want nil", err)
	}
	if waited := time.Since(start); waited < 20*time.Millisecond {
		t.Errorf("For(20ms) returned after %v", waited)
	}
	if err := Until(context.Background(), time.Now().Add(-time.Second)); err != nil {
		t.Errorf("Until(a past time) = %v, want nil", err)
	}
}
