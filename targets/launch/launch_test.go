package launch_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
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
	if m["PORT"] != "8080" || m["MCA_APP_ID"] != "app" || m["MCA_MODE"] != "backend" {
		t.Errorf("env %v", m)
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
	p, err := launch.Start(context.Background(), cmd, launch.Contract{AppID: "x"}, launch.Options{ReadyTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(p.LogTail(), "helper target listening") {
		t.Errorf("log tail %q", p.LogTail())
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if !p.Exited() {
		t.Error("process still running after Stop")
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
