package bench

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mcaspec/mcaspec/internal/fileio"
)

// runFiles tells the files and folders a run writes into its output folder.
func runFiles(name string) bool {
	switch name {
	case "report.json", "report.txt", "report.html", "results":
		return true
	}
	return strings.HasSuffix(name, "-latency.html")
}

// MoveAsideEarlierRun moves the files of an earlier run in dir (reports,
// results/, latency plots) into a new dir/run.N, so that a new run never
// mixes its results with old ones (a --merge 'dir/results/*' would add
// them up). It returns where they went ("" when dir held none); other
// files in dir (a pool file) stay.
func MoveAsideEarlierRun(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("bench: output folder: %w", err)
	}
	var old []string
	for _, e := range entries {
		if runFiles(e.Name()) {
			old = append(old, e.Name())
		}
	}
	if len(old) == 0 {
		return "", nil
	}
	var aside string
	for n := 1; ; n++ {
		aside = filepath.Join(dir, "run."+strconv.Itoa(n))
		if err := os.Mkdir(aside, 0o755); err == nil {
			break
		} else if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("bench: moving the earlier run aside: %w", err)
		}
	}
	for _, name := range old {
		if err := os.Rename(filepath.Join(dir, name), filepath.Join(aside, name)); err != nil {
			return "", fmt.Errorf("bench: moving the earlier run aside: %w", err)
		}
	}
	return aside, nil
}

// WriteReports writes report.json, report.txt and report.html into dir,
// each atomically (a reader never sees half a report).
func WriteReports(dir string, r *Report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("bench: %w", err)
	}
	for _, w := range []struct {
		name  string
		write func(io.Writer) error
	}{{"report.json", r.WriteJSON}, {"report.txt", r.WriteText}, {"report.html", r.WriteHTML}} {
		if err := fileio.WriteWith(filepath.Join(dir, w.name), 0o644, w.write); err != nil {
			return fmt.Errorf("bench: writing %s: %w", w.name, err)
		}
	}
	return nil
}

// Caps of the files the bench reads back.
const (
	maxPoolFile = 1 << 30
	maxPoolMeta = 1 << 20
)

// checkPoolFile refuses to replace an existing file at path that is not a
// pool file (no readable pool metadata beside it) unless force.
func checkPoolFile(path string, force bool) error {
	if path == "" || force {
		return nil
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if _, _, err := readMeta(path); err != nil {
		return fmt.Errorf("%w: pool file %s exists and is not a pool file (%w): give another path, or --force to replace it", ErrConfig, path, err)
	}
	return nil
}
