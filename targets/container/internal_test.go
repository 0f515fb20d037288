package container

import (
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/targets/launch"
)

func TestTailWriter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		max    int
		writes []string
		want   string
	}{
		{"under the limit", 10, []string{"abc", "def"}, "abcdef"},
		{"exactly the limit", 6, []string{"abc", "def"}, "abcdef"},
		{"drops the oldest bytes", 4, []string{"abc", "def"}, "cdef"},
		{"one write over the limit", 3, []string{"abcdefg"}, "efg"},
		{"many small writes", 5, strings.Split("0123456789", ""), "56789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := tailWriter{max: tt.max}
			for _, s := range tt.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v", s, n, err)
				}
			}
			if w.String() != tt.want {
				t.Errorf("tail = %q, want %q", w.String(), tt.want)
			}
		})
	}
}

// The container gets HOST explicitly: 127.0.0.1 by default (host networking), the caller's
// value otherwise.
func TestContainerHost(t *testing.T) {
	t.Parallel()
	for host, want := range map[string]string{"": "127.0.0.1", "0.0.0.0": "0.0.0.0"} {
		m, err := envMap(launch.Contract{Host: host}.Env(8080))
		if err != nil {
			t.Fatal(err)
		}
		if m["HOST"] != want || m["PORT"] != "8080" {
			t.Errorf("Contract{Host: %q}: HOST=%q PORT=%q, want HOST=%q PORT=8080", host, m["HOST"], m["PORT"], want)
		}
	}
}

func TestEnvMap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      []string
		want    map[string]string
		wantErr bool
	}{
		{"plain", []string{"PORT=8080", "MCA_APP_ID=x"}, map[string]string{"PORT": "8080", "MCA_APP_ID": "x"}, false},
		{"value with =", []string{`VCAP_SERVICES={"a":"b=c"}`}, map[string]string{"VCAP_SERVICES": `{"a":"b=c"}`}, false},
		{"empty value", []string{"MCA_SECRET="}, map[string]string{"MCA_SECRET": ""}, false},
		{"last wins", []string{"A=1", "A=2"}, map[string]string{"A": "2"}, false},
		{"no =", []string{"PORT"}, nil, true},
		{"no key", []string{"=x"}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := envMap(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("envMap(%q) error = %v, want error %v", tt.in, err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("envMap(%q) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("envMap(%q)[%q] = %q, want %q", tt.in, k, got[k], v)
				}
			}
		})
	}
}
