package fakeaz

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"testing"
)

// The Swift SDK's own X-WL-Authenticate test vector (BMSSecurityTests/
// SecurityUtilsTest.swift, see ../fakedevice/testdata/sdk-vectors.json for
// the provenance) parses and verifies with the key in its jpk, which is the
// SDK's test key, and carries {"code": grantCode}: what the token endpoint
// checks.
func TestSwiftSDKXWLAuthenticateVector(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../fakedevice/testdata/sdk-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Swift struct{ PrivateKeyPKCS1, GrantCode, JWS string } `json:"swiftXWLAuthenticate"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(v.Swift.PrivateKeyPKCS1)
	key, err := x509.ParsePKCS1PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	j, err := parseJWS(v.Swift.JWS)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := j.jpkKey()
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Error("jpk is not the SDK's test key")
	}
	if err := j.verify(&key.PublicKey); err != nil {
		t.Error(err)
	}
	var p struct{ Code string }
	if err := json.Unmarshal(j.payload, &p); err != nil || p.Code != v.Swift.GrantCode {
		t.Errorf("payload %s, want the grant code", j.payload)
	}
	j.signature[0] ^= 1
	if j.verify(&key.PublicKey) == nil {
		t.Error("a flipped signature bit verifies")
	}
}

// imf.device as the genuine token suggests: platform from the CSR's
// environment, osVersion from deviceOs when it holds one.
func TestDeviceClaimDerivation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ env, deviceOS, platform, version string }{
		{"android", "android", "Android", ""},      // current Android SDK
		{"android", "6.0", "Android", "6.0"},       // Android SDK before February 2016: the genuine token
		{"iOSnative", "iOS", "iOS", ""},            // iOS SDK (UIDevice.systemName)
		{"iOSnative", "iOS 9.3.2", "iOS", "9.3.2"}, // older fakedevice
		{"ANDROID", "Android 7", "Android", "7"},
		{"watchOS", "watchOS", "watchOS", ""},
		{"", "", "", ""},
	} {
		if got := DevicePlatform(tc.env); got != tc.platform {
			t.Errorf("DevicePlatform(%q) = %q, want %q", tc.env, got, tc.platform)
		}
		if got := osVersionOf(tc.deviceOS); got != tc.version {
			t.Errorf("osVersionOf(%q) = %q, want %q", tc.deviceOS, got, tc.version)
		}
	}
}
