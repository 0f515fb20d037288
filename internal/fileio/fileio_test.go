package fileio

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteWithFailureKeepsTheOldFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "report.json")
	if err := WriteFile(p, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteWith(p, 0o644, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("after a failed write the file holds %q, want the old content", b)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("a temporary file was left behind: %v", ents)
	}
}

func TestWriteFileReplacesAndSetsMode(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "x")
	for _, s := range []string{"one", "two"} {
		if err := WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" || st.Mode().Perm() != 0o600 {
		t.Errorf("content %q mode %v, want two 0600", b, st.Mode().Perm())
	}
}

func TestWriteFileNeedsTheDirectory(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "new", "dir", "f")
	if err := WriteFile(p, []byte("x"), 0o644); err == nil {
		t.Fatal("a missing directory was created silently")
	}
}

func TestCreateExclusive(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := filepath.Join(dir, "az.pem")
	if err := CreateExclusive(key, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(key); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	if err := CreateExclusive(key, []byte("other"), 0o600); !errors.Is(err, ErrExists) {
		t.Errorf("existing file: %v, want ErrExists", err)
	}
	target := filepath.Join(dir, "victim")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.pem")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := CreateExclusive(link, []byte("secret"), 0o600); err == nil {
		t.Error("a symlink was followed")
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("the symlink's target was written: %q", b)
	}
}

func TestReadFileIsBounded(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "f")
	os.WriteFile(p, []byte(strings.Repeat("x", 100)), 0o644)
	if b, err := ReadFile(p, 100); err != nil || len(b) != 100 {
		t.Errorf("at the cap: %d bytes, %v", len(b), err)
	}
	_, err := ReadFile(p, 99)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "99 bytes") {
		t.Errorf("over the cap: %v, want ErrTooLarge stating the cap", err)
	}
	if _, err := os.Stat("/dev/zero"); err == nil {
		if _, err := ReadFile("/dev/zero", 1<<20); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "1 MiB") {
			t.Errorf("/dev/zero: %v, want ErrTooLarge after 1 MiB", err)
		}
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "none"), 10); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestPrepareRunDirMovesAnEarlierRunAside(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "run")
	if moved, err := PrepareRunDir(dir, "results.json"); err != nil || moved != "" {
		t.Fatalf("new folder: moved %q, err %v", moved, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "results.json"), []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{dir + ".1", dir + ".2"} {
		moved, err := PrepareRunDir(dir, "results.json")
		if err != nil || moved != want {
			t.Fatalf("run %d: moved to %q (err %v), want %q", i, moved, err, want)
		}
		if b, _ := os.ReadFile(filepath.Join(want, "results.json")); string(b) != "old" {
			t.Errorf("the earlier run was not kept in %s", want)
		}
		if ents, _ := os.ReadDir(dir); len(ents) != 0 {
			t.Errorf("the new run's folder is not empty: %v", ents)
		}
		os.WriteFile(filepath.Join(dir, "results.json"), []byte("old"), 0o644)
	}
}

func TestPrepareRunDirRefusesAFolderThatIsNotARun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "thesis.tex"), []byte("mine"), 0o644)
	if _, err := PrepareRunDir(dir, "results.json"); !errors.Is(err, ErrNotARun) {
		t.Fatalf("err = %v, want ErrNotARun", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "thesis.tex")); string(b) != "mine" {
		t.Error("the user's file was touched")
	}
}

func TestPrepareRunDirNamesAReadOnlyFolder(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root writes into read-only folders")
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o555)
	t.Cleanup(func() { os.Chmod(dir, 0o755) })
	_, err := PrepareRunDir(filepath.Join(dir, "out"), "results.json")
	if err == nil || !strings.Contains(err.Error(), "output folder") {
		t.Fatalf("err = %v, want one naming the output folder", err)
	}
}

func TestCheckDirRefusesAMissingFolder(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "new", "dir", "baseline.txt")
	if err := CheckDir(p); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v", err)
	}
}
