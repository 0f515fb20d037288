// Package sleep waits for real time to pass unless a context ends first.
package sleep

import (
	"context"
	"time"
)

// Until waits until t, or until ctx ends (then it returns ctx.Err()).
// A t already past returns at once (nil, unless ctx has ended).
func Until(ctx context.Context, t time.Time) error { return For(ctx, time.Until(t)) }

// For waits for d, or until ctx ends (then it returns ctx.Err()).
func For(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
