package downstream_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/internal/downstream"
)

func TestParseAllowList(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in, want string // want: String() of the list, "" for an error
	}{
		{"", "loopback only (127.0.0.0/8, ::1, localhost)"},
		{"  ", "loopback only (127.0.0.0/8, ::1, localhost)"},
		{"sink.internal:9001", "sink.internal:9001"},
		{"Sink.Internal.", "sink.internal"},
		{"10.0.0.7, 10.0.0.8:80", "10.0.0.7,10.0.0.8:80"},
		{"[fd00::7]:8080,[fd00::8]", "[fd00::7]:8080,[fd00::8]"},
		{"fd00::9", "[fd00::9]"},
		{"::ffff:10.0.0.7", "10.0.0.7"},
		{"loopback,sink:9001", "loopback,sink:9001"},
		{"LOOPBACK", "loopback"},
		{"a,,b,", "a,b"},
		{"my_host-1.svc.cluster.local:65535", "my_host-1.svc.cluster.local:65535"},
		{",", ""},
		{"http://sink:9001", ""},
		{"sink:9001/path", ""},
		{"user@sink", ""},
		{"10.0.0.0/24", ""},
		{"sink:0", ""},
		{"sink:65536", ""},
		{"sink:http", ""},
		{"sink:08", ""},
		{"sink:", ""},
		{"[fd00::7", ""},
		{"[sink]:80", ""},
		{"fd00::zz", ""},
		{"0.0.0.0", ""},
		{"[::]:80", ""},
		{"*", ""},
		{"*.example.com", ""},
		{".sink", ""},
		{"a..b", ""},
		{"10.0.0", ""},
		{"10.0.0.7.", ""},
		{"0.0.0.0.", ""},
		{"fe80::1%eth0", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			a, err := downstream.ParseAllowList(tc.in)
			if tc.want == "" {
				if !errors.Is(err, downstream.ErrAllowList) {
					t.Fatalf("ParseAllowList(%q) = %v, %v; want an error wrapping ErrAllowList", tc.in, a, err)
				}
				if !strings.Contains(err.Error(), downstream.Env) {
					t.Errorf("error %q does not name %s", err, downstream.Env)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAllowList(%q): %v", tc.in, err)
			}
			if got := a.String(); got != tc.want {
				t.Errorf("ParseAllowList(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	const (
		def      = ""
		explicit = "sink.internal:9001,10.0.0.7,[fd00::7]:8080"
		withLoop = "loopback,sink.internal"
	)
	for _, tc := range []struct {
		list, url string
		ok        bool
	}{
		// The default: loopback only, any port.
		{def, "http://127.0.0.1:9/x", true},
		{def, "http://127.9.8.7/", true},
		{def, "http://localhost/", true},
		{def, "http://LOCALHOST:1234/", true},
		{def, "http://[::1]:80/a?b=c", true},
		{def, "http://[::ffff:127.0.0.1]:80/", true},
		{def, "http://10.0.0.1/", false},
		{def, "http://example.com/", false},
		{def, "http://0.0.0.0:9/", false},
		{def, "http://localhost.example.com/", false},
		{def, "http://sink.internal:9001/", false},
		// Scheme, user info, shape.
		{def, "", false},
		{def, "https://127.0.0.1/", false},
		{def, "http://user:pw@127.0.0.1/", false},
		{def, "http://user@127.0.0.1/", false},
		{def, "ftp://127.0.0.1/", false},
		{def, "http:127.0.0.1", false},
		{def, "/relative", false},
		{def, "::", false},
		{def, "http://[::1%25lo]/", false},
		// An explicit list replaces the default.
		{explicit, "http://sink.internal:9001/echo", true},
		{explicit, "http://SINK.internal.:9001/echo", true},
		{explicit, "http://sink.internal:9002/echo", false},
		{explicit, "http://sink.internal/echo", false},
		{explicit, "http://10.0.0.7/", true},
		{explicit, "http://10.0.0.7:1/", true},
		{explicit, "http://[::ffff:10.0.0.7]:1/", true},
		{explicit, "http://10.0.0.8/", false},
		{explicit, "http://[fd00::7]:8080/", true},
		{explicit, "http://[fd00::7]/", false},
		{explicit, "http://127.0.0.1:9001/", false},
		{explicit, "http://localhost:9001/", false},
		{explicit, "http://sink.internal.evil:9001/", false},
		{explicit, "http://user@sink.internal:9001/", false},
		{explicit, "https://sink.internal:9001/", false},
		// "loopback" keeps the default entries.
		{withLoop, "http://127.0.0.1:5/", true},
		{withLoop, "http://localhost:5/", true},
		{withLoop, "http://sink.internal:5/", true},
		{withLoop, "http://10.0.0.7/", false},
	} {
		t.Run(tc.list+" "+tc.url, func(t *testing.T) {
			t.Parallel()
			a, err := downstream.ParseAllowList(tc.list)
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Check(tc.url)
			if tc.ok {
				if err != nil {
					t.Fatalf("Check(%q): %v", tc.url, err)
				}
				if _, perr := url.Parse(got); perr != nil {
					t.Errorf("Check(%q) = %q, not a URL", tc.url, got)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check(%q) accepted (%q) with list %q", tc.url, got, tc.list)
			}
			if !strings.Contains(err.Error(), "to") {
				t.Errorf("error %q does not name the to parameter", err)
			}
		})
	}
}

// The client reaches an allowed loopback server, follows no redirect, and
// refuses in its dialer what the list does not allow, before any connection
// (0.0.0.0 and another loopback port: nothing is dialed).
func TestClient(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "http://0.0.0.0:9/", http.StatusFound)
			return
		}
		fmt.Fprint(w, "ok")
	}))
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	otherPort := "1"
	if u.Port() == otherPort {
		otherPort = "2"
	}
	for _, tc := range []struct {
		name, list, url string
		wantStatus      int   // 0: an error
		wantErr         error // with wantStatus 0
	}{
		{"default list, loopback server", "", srv.URL + "/", http.StatusOK, nil},
		{"localhost resolves to loopback", "", "http://" + strings.Replace(u.Host, "127.0.0.1", "localhost", 1) + "/", http.StatusOK, nil},
		{"port entry", "127.0.0.1:" + u.Port(), srv.URL + "/", http.StatusOK, nil},
		{"redirect not followed", "", srv.URL + "/redirect", http.StatusFound, nil},
		{"unspecified address refused", "", "http://0.0.0.0:9/", 0, downstream.ErrNotAllowed},
		{"other port refused", "127.0.0.1:" + otherPort, srv.URL + "/", 0, downstream.ErrNotAllowed},
		{"not in an explicit list", "sink.invalid", srv.URL + "/", 0, downstream.ErrNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, err := downstream.ParseAllowList(tc.list)
			if err != nil {
				t.Fatal(err)
			}
			// Straight to the client, without Check: the dialer is the second line.
			resp, err := a.Client(5 * time.Second).Get(tc.url)
			if tc.wantStatus == 0 {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Get(%q) = %v, want %v", tc.url, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Get(%q): %v", tc.url, err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("Get(%q) = %d, want %d", tc.url, resp.StatusCode, tc.wantStatus)
			}
		})
	}
}

func FuzzParseAllowList(f *testing.F) {
	for _, s := range []string{"", "loopback", "sink:9001,10.0.0.7", "[fd00::7]:80", "fd00::1", "a,,b", "http://x", "[::]:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := downstream.ParseAllowList(s)
		if err != nil {
			return
		}
		// A parsed list prints as a value that parses to the same list.
		if strings.TrimSpace(s) == "" {
			return
		}
		b, err := downstream.ParseAllowList(a.String())
		if err != nil || b.String() != a.String() {
			t.Fatalf("ParseAllowList(%q).String() = %q, which parses to %q, %v", s, a, b, err)
		}
		_, _ = a.Check("http://127.0.0.1/")
	})
}

func ExampleAllowList_Check() {
	a, err := downstream.ParseAllowList("sink.internal:9001,10.0.0.7")
	if err != nil {
		panic(err)
	}
	for _, to := range []string{"http://sink.internal:9001/echo", "http://10.0.0.7:8080/", "http://127.0.0.1:9001/", "https://sink.internal:9001/"} {
		if _, err := a.Check(to); err != nil {
			fmt.Println("refused:", err)
			continue
		}
		fmt.Println("allowed:", to)
	}
	// Output:
	// allowed: http://sink.internal:9001/echo
	// allowed: http://10.0.0.7:8080/
	// refused: downstream not allowed: to="http://127.0.0.1:9001/": 127.0.0.1:9001 is not an allowed downstream host (MCA_DOWNSTREAM_HOSTS: sink.internal:9001,10.0.0.7)
	// refused: to="https://sink.internal:9001/": only http URLs with a host and without user info are allowed
}
