package fakeaz_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// TestSigningKey: two servers given the same key (written by WriteKey, read by LoadKey) publish
// the same key and kid for their apps; rotation still makes a fresh key.
func TestSigningKey(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "az.pem")
	written, err := fakeaz.WriteKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode: %v, %v; want 0600", fi.Mode(), err)
	}
	if _, err := fakeaz.WriteKey(path); !errors.Is(err, fs.ErrExist) {
		t.Errorf("WriteKey over an existing file: %v, want fs.ErrExist", err)
	}
	key, err := fakeaz.LoadKey(path)
	if err != nil || !key.Equal(written) {
		t.Fatalf("LoadKey: %v (equal %v)", err, key != nil && key.Equal(written))
	}
	var kids []string
	for range 2 {
		s, err := fakeaz.New(fakeaz.WithKeyGen(keyGen(t)), fakeaz.WithSigningKey(key))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		app, err := s.AddApp(fakeaz.App{BundleID: bundle})
		if err != nil {
			t.Fatal(err)
		}
		pub, err := s.PublicKey(app.ID)
		if err != nil || !pub.Equal(&key.PublicKey) {
			t.Fatalf("app key is not the WithSigningKey key (%v)", err)
		}
		jwks, err := s.JWKS(app.ID)
		if err != nil {
			t.Fatal(err)
		}
		kids = append(kids, jwks[0].Kid)
		if err := s.RotateKey(app.ID, 0); err != nil {
			t.Fatal(err)
		}
		if pub, _ := s.PublicKey(app.ID); pub.Equal(&key.PublicKey) {
			t.Error("RotateKey kept the shared key")
		}
	}
	if kids[0] != kids[1] {
		t.Errorf("kids %v differ across servers with the same key", kids)
	}
}

func TestLoadKeyRefuses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	small, err := tokenfactory.GenerateKey(1024, nil)
	if err != nil {
		t.Fatal(err)
	}
	sharedKeys(t)
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(azKeys[0])})
	for _, tc := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"pkcs1", pkcs1, true},
		{"not PEM", []byte("hello"), false},
		{"public key", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1}}), false},
		{"too small", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}), false},
		{"corrupt", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), false},
	} {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, tc.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := fakeaz.LoadKey(p)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, fakeaz.ErrSigningKey)) {
			t.Errorf("%s: LoadKey: %v, want ok=%v (else ErrSigningKey)", tc.name, err, tc.ok)
		}
	}
	if _, err := fakeaz.LoadKey(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := fakeaz.New(fakeaz.WithSigningKey(small)); !errors.Is(err, fakeaz.ErrSigningKey) {
		t.Errorf("WithSigningKey(1024 bits): %v, want ErrSigningKey", err)
	}
}
