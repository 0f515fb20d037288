// Package fileio is the one way mcaspec writes and reads a user's files.
//
// Writes are atomic: the data goes to a temporary file in the destination's
// directory, is synced, and is renamed over the destination, so a failed or
// interrupted write never leaves a truncated or empty file where a good one
// was (or where a report is announced). Keys are created 0600, exclusively,
// without following a symlink. Reads of user-supplied files are bounded: a
// file over its cap (or an endless one such as /dev/zero) is an error that
// states the cap, never an unbounded read.
package fileio

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// ErrTooLarge is returned (wrapped) by ReadFile for a file over its cap.
var ErrTooLarge = errors.New("file too large")

// ErrExists is returned (wrapped) by CreateExclusive when the path exists.
var ErrExists = fs.ErrExist

// File is a file being written atomically: Write to it, then Commit to put
// it in place, or Abort (also safe after Commit, so it can be deferred) to
// leave the destination as it was.
type File struct {
	f    *os.File
	path string
	done bool
}

// Create starts an atomic write of path with permissions perm. The
// directory must exist: a missing directory is an error, not created
// silently.
func Create(path string, perm fs.FileMode) (*File, error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(perm); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &File{f: f, path: path}, nil
}

// Write implements io.Writer.
func (w *File) Write(p []byte) (int, error) { return w.f.Write(p) }

// Name is the destination path.
func (w *File) Name() string { return w.path }

// Commit syncs the data and renames it over the destination.
func (w *File) Commit() error {
	if w.done {
		return fmt.Errorf("write %s: already committed or aborted", w.path)
	}
	w.done = true
	tmp := w.f.Name()
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, w.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	syncDir(filepath.Dir(w.path))
	return nil
}

// Abort drops the temporary file; the destination is untouched. It is a
// no-op after Commit.
func (w *File) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// WriteFile writes data to path atomically with permissions perm.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	return WriteWith(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith writes path atomically with what write produces; if write
// fails, the destination is untouched and its error is returned.
func WriteWith(path string, perm fs.FileMode, write func(io.Writer) error) error {
	f, err := Create(path, perm)
	if err != nil {
		return err
	}
	defer f.Abort()
	if err := write(f); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Commit()
}

// CreateExclusive writes data to a new file at path with permissions perm
// (0600 for a key): it refuses an existing path (ErrExists) and a symlink
// at path, and never follows one. The data is synced before it returns; a
// failed write removes the new file.
func CreateExclusive(path string, data []byte, perm fs.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|oNoFollow, perm)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// ReadFile reads a user-supplied file of at most limit bytes. A larger
// file, or one that never ends, is an error wrapping ErrTooLarge that
// states the cap; reading stops at limit+1 bytes.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadAll(f, path, limit)
}

// ReadAll reads r (named name in errors) up to limit bytes, like ReadFile.
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("read %s: %w: more than %s (the cap for this kind of file)", name, ErrTooLarge, Size(limit))
	}
	return b, nil
}

// Size formats a byte count for messages (e.g. "64 MiB").
func Size(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%d GiB", n>>30)
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync() // best effort: the rename is durable once the directory is
		d.Close()
	}
}

// ErrNotARun is returned (wrapped) by PrepareRunDir for a folder that holds
// files but no earlier run: it is not the command's own, so it is neither
// written into nor moved.
var ErrNotARun = errors.New("folder holds files that are not an earlier run")

// PrepareRunDir makes dir ready for a new run's output: a missing dir is
// created, an empty one is used as it is, and one that holds an earlier run
// (any of the names in marks exists in it) is renamed to the first free
// dir.1, dir.2, ... so that old results never mix with new ones. It returns
// where the earlier run went ("" when nothing moved). A folder holding
// other files is refused (ErrNotARun), and so is one that cannot be
// written (the error names it).
func PrepareRunDir(dir string, marks ...string) (movedTo string, err error) {
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", mkdirWritable(dir)
	case err != nil:
		return "", fmt.Errorf("output folder %s: %w", dir, err)
	case len(ents) == 0:
		return "", mkdirWritable(dir)
	}
	isRun := false
	for _, m := range marks {
		if _, err := os.Lstat(filepath.Join(dir, m)); err == nil {
			isRun = true
			break
		}
	}
	if !isRun {
		return "", fmt.Errorf("output folder %s: %w (want an empty folder, a new one, or an earlier run's)", dir, ErrNotARun)
	}
	clean := filepath.Clean(dir)
	for i := 1; i < 1000; i++ {
		to := fmt.Sprintf("%s.%d", clean, i)
		if _, err := os.Lstat(to); err == nil {
			continue
		}
		if err := os.Rename(clean, to); err != nil {
			return "", fmt.Errorf("output folder %s holds an earlier run that could not be moved aside to %s: %w", dir, to, err)
		}
		return to, mkdirWritable(dir)
	}
	return "", fmt.Errorf("output folder %s: %s.1 to %s.999 all exist: remove earlier runs", dir, clean, clean)
}

// mkdirWritable creates dir (and its parents: an output folder is asked for
// by name) and checks a file can be created in it, so that a run learns of
// a read-only folder before it starts rather than after its cases.
func mkdirWritable(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("output folder %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("output folder %s is not writable: %w", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// CheckDir checks that the folder path would be written into exists: a
// file's folder is never created silently.
func CheckDir(path string) error {
	dir := filepath.Dir(path)
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("write %s: folder %s does not exist (create it first)", path, dir)
	case err != nil:
		return fmt.Errorf("write %s: %w", path, err)
	case !st.IsDir():
		return fmt.Errorf("write %s: %s is not a folder", path, dir)
	}
	return nil
}

// Same reports whether paths a and b name the same existing file (through
// links, or spelled differently).
func Same(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
