// Package loopback checks and dials loopback http URLs (the downstream calls
// of the reference target and the bench baseline).
package loopback

import "errors"

// ErrNotLoopback is wrapped when an address is not on the loopback interface.
var ErrNotLoopback = errors.New("not a loopback address")
