package launch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/targets/launch"
)

func TestContractEnv(t *testing.T) {
	t.Parallel()
	env := launch.Contract{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "app", ClientID: "c", Secret: "s", Backend: true}.Env(8080)
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	if m["PORT"] != "8080" || m["HOST"] != "127.0.0.1" || m["MCA_APP_ID"] != "app" || m["MCA_MODE"] != "backend" {
		t.Errorf("env %v", m)
	}
	if _, ok := m["MCA_DOWNSTREAM_HOSTS"]; ok {
		t.Errorf("MCA_DOWNSTREAM_HOSTS passed without Contract.DownstreamHosts: %v", m)
	}
	if _, ok := m["MCA_ISSUER"]; ok {
		t.Errorf("MCA_ISSUER passed without Contract.Issuer: %v", m)
	}
	env = launch.Contract{Host: "0.0.0.0", DownstreamHosts: "sink:9001,loopback", Issuer: "http://az/imf-authserver/authorization/"}.Env(1)
	if !slices.Contains(env, "MCA_ISSUER=http://az/imf-authserver/authorization/") {
		t.Errorf("env %v, want MCA_ISSUER", env)
	}
	if !slices.Contains(env, "HOST=0.0.0.0") || !slices.Contains(env, "MCA_DOWNSTREAM_HOSTS=sink:9001,loopback") {
		t.Errorf("env %v, want the caller's HOST and MCA_DOWNSTREAM_HOSTS", env)
	}
	var vs map[string][]struct {
		Name        string            `json:"name"`
		Credentials map[string]string `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(m["VCAP_SERVICES"]), &vs); err != nil {
		t.Fatal(err)
	}
	cr := vs["AdvancedMobileAccess"][0].Credentials
	if cr["serverUrl"] != "http://127.0.0.1:1/imf-authserver" || cr["tenantId"] != "app" || cr["clientId"] != "c" || cr["secret"] != "s" {
		t.Errorf("VCAP_SERVICES credentials %v", cr)
	}
	if !strings.HasPrefix(vs["AdvancedMobileAccess"][0].Name, "AdvancedMobileAccess") {
		t.Errorf("service name %q", vs["AdvancedMobileAccess"][0].Name)
	}
}

func TestDialHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "127.0.0.1", "localhost": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1", "127.0.0.2": "127.0.0.2", "[::1]": "::1"} {
		if got := launch.DialHost(in); got != want {
			t.Errorf("DialHost(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStartWaitsForHealthAndStops uses the test binary itself as the target.
func TestStartWaitsForHealthAndStops(t *testing.T) {
	t.Parallel()
	if os.Getenv("LAUNCH_HELPER") != "" {
		t.Skip("helper process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := "LAUNCH_HELPER=serve exec " + exe + " -test.run '^TestHelperTarget$'"
	for _, host := range []string{"", "127.0.0.2"} { // the default, and a HOST the caller sets
		t.Run("HOST="+host, func(t *testing.T) {
			t.Parallel()
			p, err := launch.Start(context.Background(), cmd, launch.Contract{AppID: "x", Host: host}, launch.Options{ReadyTimeout: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(p.LogTail(), "helper target listening") {
				t.Errorf("log tail %q", p.LogTail())
			}
			if want := "http://" + launch.DialHost(host) + ":"; !strings.HasPrefix(p.URL(), want) {
				t.Errorf("URL %q, want %s...", p.URL(), want)
			}
			if err := p.Stop(); err != nil {
				t.Fatal(err)
			}
			if !p.Exited() {
				t.Error("process still running after Stop")
			}
		})
	}
}

func TestStartReportsAnEarlyExit(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	_, err := launch.Start(context.Background(), "echo boom-on-start; exit 3", launch.Contract{}, launch.Options{ReadyTimeout: 10 * time.Second})
	if !errors.Is(err, launch.ErrNotReady) || !strings.Contains(err.Error(), "boom-on-start") {
		t.Fatalf("want ErrNotReady with the output, got %v", err)
	}
}

func TestContractEnvWeb(t *testing.T) {
	t.Parallel()
	web := &launch.Web{ClientID: "web", Secret: "ws", AuthorizationEndpoint: "http://127.0.0.1:1/a", TokenEndpoint: "http://127.0.0.1:1/t", CallbackURL: "http://127.0.0.1:2/web/callback"}
	env := launch.Contract{ServerURL: "http://127.0.0.1:1/imf-authserver", AppID: "app", ClientID: "c", Secret: "s", Web: web}.Env(2)
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	want := map[string]string{"MCA_WEB_CLIENT_ID": "web", "MCA_WEB_SECRET": "ws", "MCA_AUTHORIZATION_ENDPOINT": "http://127.0.0.1:1/a",
		"MCA_TOKEN_ENDPOINT": "http://127.0.0.1:1/t", "MCA_CALLBACK_URL": "http://127.0.0.1:2/web/callback", "MCA_CLIENT_ID": "c", "MCA_SECRET": "s"}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %q, want %q", k, m[k], v)
		}
	}
	var vs map[string][]struct {
		Credentials map[string]string `json:"credentials"`
	}
	if err := json.Unmarshal([]byte(m["VCAP_SERVICES"]), &vs); err != nil {
		t.Fatal(err)
	}
	cr := vs["AdvancedMobileAccess"][0].Credentials
	if cr["clientId"] != "web" || cr["secret"] != "ws" || cr["authorizationEndpoint"] != "http://127.0.0.1:1/a" || cr["tokenEndpoint"] != "http://127.0.0.1:1/t" {
		t.Errorf("VCAP_SERVICES credentials %v, want the web client and endpoints", cr)
	}
	if _, ok := (launch.Contract{}).EnvMap(1)["MCA_WEB_CLIENT_ID"]; ok {
		t.Error("a bearer contract passes MCA_WEB_CLIENT_ID")
	}
}
