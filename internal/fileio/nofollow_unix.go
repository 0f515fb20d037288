//go:build !windows

package fileio

import "syscall"

// oNoFollow makes CreateExclusive refuse a symlink at the path itself.
const oNoFollow = syscall.O_NOFOLLOW
