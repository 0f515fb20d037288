package fakedevice

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// sdkVectors are the golden values of testdata/sdk-vectors.json, transcribed
// from the SDKs' own unit tests (provenance in the file).
type sdkVectors struct {
	Swift struct {
		PrivateKeyPKCS1, GrantCode, JWS string
	} `json:"swiftXWLAuthenticate"`
	SwiftCert struct {
		Certificate, SubjectUID, SubjectDC string
	} `json:"swiftCertificate"`
	AndroidCert struct {
		CertificateJSONText, SubjectUID, SubjectDC string
	} `json:"androidCertificate"`
}

func loadVectors(t *testing.T) sdkVectors {
	t.Helper()
	b, err := os.ReadFile("testdata/sdk-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v sdkVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

// The iOS profile signs {"code": grantCode} with the Swift SDK's test key
// into exactly the Swift SDK's expected X-WL-Authenticate
// (BMSSecurityTests/SecurityUtilsTest.swift testSignCsr): padded base64url
// segments, standard-alphabet jpk with "\/" and the modulus's leading zero.
// RS256 (PKCS#1 v1.5) is deterministic, so the whole string must match.
func TestSwiftSDKXWLAuthenticateVector(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	der, err := base64.StdEncoding.DecodeString(v.Swift.PrivateKeyPKCS1)
	if err != nil {
		t.Fatal(err)
	}
	key, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatal(err) // 512 bits: needs godebug rsa1024min=0 (set in go.mod)
	}
	got, err := SDKQuirks(PlatformIOS).sign(key, struct {
		Code string `json:"code"`
	}{v.Swift.GrantCode})
	if err != nil {
		t.Fatal(err)
	}
	if got != v.Swift.JWS {
		t.Errorf("iOS profile X-WL-Authenticate\n got  %s\n want %s", got, v.Swift.JWS)
	}
	// The Android profile differs only in the jpk encoding.
	a, err := SDKQuirks(PlatformAndroid).sign(key, struct {
		Code string `json:"code"`
	}{v.Swift.GrantCode})
	if err != nil || a == v.Swift.JWS {
		t.Errorf("android profile gave %q, %v: want a different (base64url jpk) JWS", a, err)
	}
}

var (
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC  = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

// The SDKs' test certificates: subject DC=<applicationId>, UID=<clientId>
// (in that order), signed by "CN=WL Dev"; the Swift one carries the Swift
// test key, which the device's certificate check (both SDKs) accepts, and
// another key is refused.
func TestSDKTestCertificates(t *testing.T) {
	t.Parallel()
	v := loadVectors(t)
	var ans struct{ Certificate string }
	if err := json.Unmarshal([]byte(`{"certificate":"`+v.AndroidCert.CertificateJSONText+`"}`), &ans); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, b64, uid, dc string }{
		{"swift", v.SwiftCert.Certificate, v.SwiftCert.SubjectUID, v.SwiftCert.SubjectDC},
		{"android", ans.Certificate, v.AndroidCert.SubjectUID, v.AndroidCert.SubjectDC},
	} {
		der, err := tokenfactory.DecodeLenient(tc.b64)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var rdns []string
		for _, a := range cert.Subject.Names {
			switch {
			case a.Type.Equal(oidDC):
				rdns = append(rdns, "DC="+a.Value.(string))
			case a.Type.Equal(oidUID):
				rdns = append(rdns, "UID="+a.Value.(string))
			}
		}
		if len(rdns) != 2 || rdns[0] != "DC="+tc.dc || rdns[1] != "UID="+tc.uid {
			t.Errorf("%s: subject %v, want [DC=%s UID=%s]", tc.name, rdns, tc.dc, tc.uid)
		}
	}

	der, _ := base64.StdEncoding.DecodeString(v.Swift.PrivateKeyPKCS1)
	key, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	cder, _ := base64.StdEncoding.DecodeString(v.SwiftCert.Certificate)
	cert, err := x509.ParseCertificate(cder)
	if err != nil {
		t.Fatal(err)
	}
	other, err := tokenfactory.GenerateKey(512, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, platform := range []Platform{PlatformAndroid, PlatformIOS} {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		d := &Device{cfg: Config{Platform: platform, Clock: func() time.Time { return now }}, sdk: sdkOf(platform)}
		if err := d.checkCertificate(cert, &key.PublicKey); err != nil {
			t.Errorf("%s: SDK test certificate refused: %v", platform, err)
		}
		if err := d.checkCertificate(cert, &other.PublicKey); !errors.Is(err, ErrCertificate) {
			t.Errorf("%s: certificate of another key: %v, want ErrCertificate", platform, err)
		}
		// Android checks validity at now+5m (CertificatesUtility.java lines 51-63); iOS does not.
		now = cert.NotAfter.Add(-time.Minute)
		err := d.checkCertificate(cert, &key.PublicKey)
		if want := platform == PlatformAndroid; errors.Is(err, ErrCertificate) != want {
			t.Errorf("%s: certificate expiring within 5 minutes: %v, want refused: %v", platform, err, want)
		}
	}
}
