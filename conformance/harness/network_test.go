package harness

import (
	"errors"
	"testing"
)

func TestNetworkConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cfg        Config
		err        bool
		downstream string
	}{
		{Config{}, false, ""},
		{Config{AZListen: "127.0.0.1:0", ServersListen: "127.0.0.1"}, false, ""},
		{Config{AZListen: "10.1.2.3:9080", ServersListen: "10.1.2.3"}, false, "10.1.2.3"},
		{Config{AZListen: "0.0.0.0:9080"}, true, ""},
		{Config{AZListen: ":9080"}, true, ""},
		{Config{AZListen: "0.0.0.0:9080", AZPublicURL: "http://harness:9080"}, false, ""},
		{Config{AZPublicURL: "ftp://harness"}, true, ""},
		{Config{ServersListen: "0.0.0.0"}, true, ""},
		{Config{ServersListen: "0.0.0.0", ServersHost: "harness.internal"}, false, "harness.internal"},
		{Config{ServersListen: "::", ServersHost: "fd00::1"}, false, "[fd00::1]"},
		{Config{AZListen: "nonsense"}, true, ""},
	}
	for _, tt := range tests {
		err := CheckNetwork(tt.cfg)
		if (err != nil) != tt.err || (err != nil && !errors.Is(err, ErrNetwork)) {
			t.Errorf("CheckNetwork(%+v) = %v, want error %v", tt.cfg, err, tt.err)
		}
		if got := DownstreamHosts(tt.cfg); !tt.err && got != tt.downstream {
			t.Errorf("DownstreamHosts(%+v) = %q, want %q", tt.cfg, got, tt.downstream)
		}
	}
}
