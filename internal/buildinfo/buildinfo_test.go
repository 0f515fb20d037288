package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuild(t *testing.T) {
	t.Parallel()
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/mcaspec/mcaspec", Version: "v0.2.0"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}
	tests := []struct {
		name     string
		bi       *debug.BuildInfo
		ver, rev string
		want     string
	}{
		{"no build info", nil, "", "", "mcaspec (devel)"},
		{"module and vcs", bi, "", "", "mcaspec v0.2.0 (0123456789ab, modified)"},
		{"link-time override wins", bi, "v1.0.0", "fedcba9876543210", "mcaspec v1.0.0 (fedcba987654)"},
		{"version only", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "", "", "mcaspec (devel)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := fromBuild(tt.bi, tt.ver, tt.rev).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestReadInTest(t *testing.T) {
	t.Parallel()
	if got := Read().String(); !strings.HasPrefix(got, "mcaspec ") {
		t.Errorf("Read().String() = %q, want it to start with \"mcaspec \"", got)
	}
}
