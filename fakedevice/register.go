package fakedevice

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/mcaspec/mcaspec/internal/excerpt"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// deviceOS is the CSR's deviceOs as the platform's SDK sends it: "iOS"
// (UIDevice.systemName, Source/mca/api/identity/MCADeviceIdentity.swift
// line 35), "android" (security/identity/BaseDeviceIdentity.java line 48),
// or the OS release with LegacyAndroidDeviceOS.
func (d *Device) deviceOS() string { return d.sdk.csrDeviceOS(d.cfg) }

// csrPayload is the payload of the registration CSR, in the order the
// Android SDK writes it (AuthorizationProcessManager.java lines 173-178;
// iOS writes a Swift Dictionary, in no fixed order).
type csrPayload struct {
	DeviceID           string `json:"deviceId"`
	DeviceOS           string `json:"deviceOs"`
	DeviceModel        string `json:"deviceModel"`
	ApplicationID      string `json:"applicationId"`
	ApplicationVersion string `json:"applicationVersion"`
	Environment        string `json:"environment"`
}

// Register makes the device key (or uses Config.Key), sends the CSR to
// clients/instance and stores the clientId and certificate. Registering
// again makes a new key and replaces the previous registration.
//
// As both SDKs do, the certificate must carry the device's public key
// (Android CertificatesUtility.checkValidityWithPublicKey, iOS
// SecurityUtils.checkCertificatePublicKeyValidity), and on Android it must
// be valid at Clock()+5 minutes; otherwise Register fails with
// ErrCertificate.
func (d *Device) Register(ctx context.Context) error {
	return d.serial(ctx, OpRegister, d.register)
}

func (d *Device) register(ctx context.Context) error {
	key := d.cfg.Key
	if key == nil {
		start := time.Now()
		var err error
		key, err = tokenfactory.GenerateKey(d.cfg.KeyBits, d.cfg.Rand)
		d.addTime(&d.timings.KeyGen, start)
		if err != nil {
			return fmt.Errorf("generating a %d-bit device key: %w (512-bit keys need GODEBUG=rsa1024min=0)", d.cfg.KeyBits, err)
		}
	}
	payload := csrPayload{
		DeviceID: d.cfg.DeviceID, DeviceOS: d.deviceOS(), DeviceModel: d.cfg.DeviceModel,
		ApplicationID: d.cfg.BundleID, ApplicationVersion: d.cfg.AppVersion, Environment: string(d.cfg.Platform),
	}
	csr, err := d.sign(key, payload)
	if err != nil {
		return fmt.Errorf("signing the CSR: %w", err)
	}
	body, err := d.postForm(ctx, "/clients/instance", url.Values{"CSR": {csr}}, "")
	if err != nil {
		return err
	}
	var out struct {
		Certificate string `json:"certificate"`
		ClientID    string `json:"clientId"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return fmt.Errorf("%w: registration answer is not JSON {certificate, clientId}: %w: %q", ErrBadResponse, err, excerpt.Of(body, bodyExcerpt))
	}
	if out.ClientID == "" {
		return fmt.Errorf("%w: registration answer has no clientId: %q", ErrBadResponse, excerpt.Of(body, bodyExcerpt))
	}
	der, err := tokenfactory.DecodeLenient(out.Certificate)
	if err != nil || len(der) == 0 {
		return fmt.Errorf("%w: certificate is not base64 DER: %q", ErrBadResponse, excerpt.Of([]byte(out.Certificate), bodyExcerpt))
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return fmt.Errorf("%w: certificate is not an X.509 certificate: %w", ErrBadResponse, err)
	}
	if err := d.checkCertificate(cert, &key.PublicKey); err != nil {
		return err
	}
	d.mu.Lock()
	d.key, d.clientID, d.cert = key, out.ClientID, cert
	d.code, d.tokens, d.user, d.result = "", Tokens{}, nil, nil
	d.mu.Unlock()
	return nil
}

// certValiditySlack is how far ahead the Android SDK checks the issued
// certificate's validity (CertificatesUtility.java lines 51-63).
const certValiditySlack = 5 * time.Minute

func (d *Device) checkCertificate(cert *x509.Certificate, pub *rsa.PublicKey) error {
	certPub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !certPub.Equal(pub) {
		return fmt.Errorf("%w: the issued certificate does not carry the device's public key (subject %s)", ErrCertificate, cert.Subject)
	}
	if d.sdk.certSlack > 0 {
		at := d.cfg.Clock().Add(d.sdk.certSlack)
		if at.Before(cert.NotBefore) || at.After(cert.NotAfter) {
			return fmt.Errorf("%w: the issued certificate is not valid at now+5m (%s): valid %s to %s",
				ErrCertificate, at.UTC().Format(time.RFC3339), cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	return nil
}
