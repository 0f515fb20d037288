package targets_test

import (
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// common/x509 stands in for the native x509 addon that bms-mca-oauth-sdk
// requires (it does not build on Node 20): parseCert(pem).subject.commonName
// is what the SDK reads; the bms folders' overrides must resolve x509 to it.
func TestX509StandIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Node.js processes")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	key, err := tokenfactory.GenerateKey(2048, nil)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7),
		Subject:      pkix.Name{CommonName: "svc-client", Organization: []string{"Acme"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPath := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	standIn, err := filepath.Abs(filepath.Join("common", "x509", "index.js"))
	if err != nil {
		t.Fatal(err)
	}
	node := func(t *testing.T, dir, script string, args ...string) (string, error) {
		t.Helper()
		cmd := exec.Command("node", append([]string{"-e", script}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for _, tc := range []struct {
		name, script, arg, want string
		fails                   bool
	}{
		{"PEM text", `const fs=require('fs');const c=require(process.argv[1]).parseCert(fs.readFileSync(process.argv[2]).toString());console.log(c.subject.commonName+'/'+c.subject.organizationName+'/'+c.issuer.commonName)`, certPath, "svc-client/Acme/svc-client", false},
		{"a path, as x509 0.2 takes", `console.log(require(process.argv[1]).parseCert(process.argv[2]).subject.commonName)`, certPath, "svc-client", false},
		{"not a certificate", `require(process.argv[1]).parseCert('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n')`, "", "not a PEM certificate", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := node(t, ".", tc.script, standIn, tc.arg)
			if (err != nil) != tc.fails || !strings.Contains(out, tc.want) {
				t.Errorf("got %q (err %v), want %q (fails %v)", out, err, tc.want, tc.fails)
			}
		})
	}
	for _, dir := range []string{"bms-mca-resource", "bms-mca-backend", "bms-mca-service", filepath.Join("versions", "bms-mca-resource-2.0.3")} {
		t.Run("resolved in "+dir, func(t *testing.T) {
			t.Parallel()
			if _, err := os.Stat(filepath.Join(dir, "node_modules")); err != nil {
				t.Skipf("run `npm ci --prefix targets/%s` first", dir)
			}
			// From the SDK's own folder, as its token-manager.js requires it.
			out, err := node(t, dir, `const p=require.resolve('x509',{paths:[require('path').dirname(require.resolve('bms-mca-oauth-sdk'))]});console.log(require('fs').realpathSync(p))`)
			if err != nil || out != standIn {
				t.Errorf("x509 resolves to %q (err %v), want %s", out, err, standIn)
			}
		})
	}
}
