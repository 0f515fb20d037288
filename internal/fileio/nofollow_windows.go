//go:build windows

package fileio

// oNoFollow: Windows has no O_NOFOLLOW; O_EXCL (CREATE_NEW) already fails on
// any existing path, a symlink included, so nothing is followed.
const oNoFollow = 0
