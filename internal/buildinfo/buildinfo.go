// Package buildinfo says which mcaspec this is: the module version and the
// VCS revision Go stamped into the binary (runtime/debug.ReadBuildInfo), or
// what a release build set at link time:
//
//	go build -ldflags "-X github.com/mcaspec/mcaspec/internal/buildinfo.version=v0.1.0 \
//	  -X github.com/mcaspec/mcaspec/internal/buildinfo.revision=$(git rev-parse HEAD)" ./cmd/mcaspec
//
// Every report mcaspec writes records String().
package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// Set only by the linker (-ldflags -X): never written at run time.
var (
	version  string
	revision string
)

// Info is the identity of the running binary.
type Info struct {
	// Version is the module version (v0.1.0), "(devel)" for a build from
	// a work tree, or what -X ...buildinfo.version set.
	Version string `json:"version"`
	// Revision is the VCS commit the binary was built from ("" if unknown).
	Revision string `json:"revision,omitempty"`
	// Modified says the work tree had uncommitted changes.
	Modified bool `json:"modified,omitempty"`
	// GoVersion is the toolchain that built it.
	GoVersion string `json:"goVersion,omitempty"`
}

// Read returns the running binary's Info.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return fromBuild(nil, version, revision)
	}
	return fromBuild(bi, version, revision)
}

// fromBuild combines Go's build information with link-time overrides
// (non-empty overrides win).
func fromBuild(bi *debug.BuildInfo, linkVersion, linkRevision string) Info {
	in := Info{Version: "(devel)"}
	if bi != nil {
		in.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" {
			in.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				in.Revision = s.Value
			case "vcs.modified":
				in.Modified = s.Value == "true"
			}
		}
	}
	if linkVersion != "" {
		in.Version = linkVersion
	}
	if linkRevision != "" {
		in.Revision, in.Modified = linkRevision, false
	}
	return in
}

// String is the one-line form reports record: "mcaspec v0.1.0 (0123456789ab)",
// "mcaspec (devel) (0123456789ab, modified)".
func (in Info) String() string {
	s := "mcaspec " + in.Version
	rev := in.Revision
	if len(rev) > 12 {
		rev = rev[:12]
	}
	switch {
	case rev != "" && in.Modified:
		s += fmt.Sprintf(" (%s, modified)", rev)
	case rev != "":
		s += fmt.Sprintf(" (%s)", rev)
	case in.Modified:
		s += " (modified)"
	}
	return s
}
