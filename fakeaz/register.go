package fakeaz

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// errBadJWS is wrapped by the errors of parseJWS.
var errBadJWS = errors.New("bad JWS")

type compactJWS struct {
	header       map[string]json.RawMessage
	payload      []byte
	signingInput []byte
	signature    []byte
}

// parseJWS splits and decodes a compact RS256 JWS, tolerating padded and
// standard-alphabet segments as real clients sent them. It does not verify.
func parseJWS(s string) (*compactJWS, error) {
	s = strings.TrimSpace(s)
	h, p, sig, err := jwsbb.SplitCompactString(s)
	if err != nil {
		return nil, fmt.Errorf("%w: not a compact JWS (header.payload.signature): %w", errBadJWS, err)
	}
	hb, err := tokenfactory.DecodeLenient(string(h))
	if err != nil {
		return nil, fmt.Errorf("%w: header is not base64: %w", errBadJWS, err)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, fmt.Errorf("%w: header is not a JSON object: %w", errBadJWS, err)
	}
	var alg string
	if err := json.Unmarshal(hdr["alg"], &alg); err != nil || alg != tokenfactory.RS256 {
		return nil, fmt.Errorf("%w: header alg must be %q, got %s", errBadJWS, tokenfactory.RS256, hdr["alg"])
	}
	pb, err := tokenfactory.DecodeLenient(string(p))
	if err != nil {
		return nil, fmt.Errorf("%w: payload is not base64: %w", errBadJWS, err)
	}
	sb, err := tokenfactory.DecodeLenient(string(sig))
	if err != nil || len(sb) == 0 {
		return nil, fmt.Errorf("%w: signature is missing or not base64", errBadJWS)
	}
	input := make([]byte, 0, len(h)+1+len(p))
	input = append(append(append(input, h...), '.'), p...)
	return &compactJWS{header: hdr, payload: pb, signingInput: input, signature: sb}, nil
}

func (j *compactJWS) verify(pub *rsa.PublicKey) error {
	if err := jwsbb.Verify(pub, tokenfactory.RS256, j.signingInput, j.signature); err != nil {
		return fmt.Errorf("%w: RS256 signature does not verify with the key: %w", errBadJWS, err)
	}
	return nil
}

// jpkKey extracts the device key from the header's jpk.
func (j *compactJWS) jpkKey() (*rsa.PublicKey, error) {
	raw, ok := j.header["jpk"]
	if !ok {
		return nil, fmt.Errorf("%w: header has no jpk (the device public key)", errBadJWS)
	}
	var jpk struct {
		Mod string `json:"mod"`
		Exp string `json:"exp"`
	}
	if err := json.Unmarshal(raw, &jpk); err != nil || jpk.Mod == "" || jpk.Exp == "" {
		return nil, fmt.Errorf("%w: jpk must be {\"alg\":\"RSA\",\"mod\":...,\"exp\":...}", errBadJWS)
	}
	pub, err := tokenfactory.DecodeModExp(jpk.Mod, jpk.Exp)
	if err != nil {
		return nil, fmt.Errorf("%w: jpk: %w", errBadJWS, err)
	}
	return pub, nil
}

// csrPayload is the payload of a registration CSR.
type csrPayload struct {
	DeviceID           string `json:"deviceId"`
	DeviceOS           string `json:"deviceOs"`
	DeviceModel        string `json:"deviceModel"`
	ApplicationID      string `json:"applicationId"`
	ApplicationVersion string `json:"applicationVersion"`
	Environment        string `json:"environment"`
}

func platformOf(env string) string {
	e := strings.ToLower(env)
	switch {
	case strings.HasPrefix(e, "ios"):
		return PlatformIOS
	case strings.HasPrefix(e, "android"):
		return PlatformAndroid
	}
	return ""
}

// DevicePlatform is the imf.device platform of a CSR environment, as the
// genuine token suggests ("android" → "Android"; "iOSnative" → "iOS"; any
// other value as sent). See the README's "imf.device" decision.
func DevicePlatform(environment string) string {
	switch platformOf(environment) {
	case PlatformAndroid:
		return "Android"
	case PlatformIOS:
		return "iOS"
	}
	return environment
}

// osVersionOf is the imf.device osVersion held in a CSR deviceOs: the
// whole value when it is a version ("6.0", as the Android SDK sent before
// February 2016), the part after the first space when that is one
// ("iOS 9.3.2", older fakedevice), else "" (the SDKs' "iOS" and "android"
// hold none).
func osVersionOf(deviceOS string) string {
	isVersion := func(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }
	if isVersion(deviceOS) {
		return deviceOS
	}
	if _, v, ok := strings.Cut(deviceOS, " "); ok && isVersion(v) {
		return v
	}
	return ""
}

func (a *App) acceptsDevice(p *csrPayload) error {
	if a.BundleID != "" && p.ApplicationID != a.BundleID {
		return fmt.Errorf("applicationId %q is not registered for app %s (expected bundle id %q)", p.ApplicationID, a.ID, a.BundleID)
	}
	if len(a.Versions) > 0 && !slices.Contains(a.Versions, "*") && !slices.Contains(a.Versions, p.ApplicationVersion) {
		return fmt.Errorf("applicationVersion %q is not registered for app %s (accepted: %s)", p.ApplicationVersion, a.ID, strings.Join(a.Versions, ", "))
	}
	if a.Platform != PlatformAny && platformOf(p.Environment) != a.Platform {
		return fmt.Errorf("environment %q does not match the app's platform %q", p.Environment, a.Platform)
	}
	return nil
}

func (s *Server) handleRegister(w http.ResponseWriter, r *http.Request, a *appState) {
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "registration body must be a form with CSR=<compact JWS>: "+err.Error())
		return
	}
	csr := r.PostForm.Get("CSR")
	if csr == "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "form field CSR (the device's compact JWS) is missing")
		return
	}
	j, err := parseJWS(csr)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "CSR: "+err.Error())
		return
	}
	pub, err := j.jpkKey()
	if err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "CSR: "+err.Error())
		return
	}
	if err := j.verify(pub); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "CSR: "+err.Error())
		return
	}
	var p csrPayload
	if err := json.Unmarshal(j.payload, &p); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "CSR payload is not the expected JSON object: "+err.Error())
		return
	}
	s.mu.Lock()
	app := cloneApp(a.app)
	s.mu.Unlock()
	if err := app.acceptsDevice(&p); err != nil {
		writeErr(w, http.StatusForbidden, "unauthorized_client", err.Error())
		return
	}
	clientID := hex.EncodeToString(s.randBytes(20))
	cert, err := s.issueCertificate(clientID, p.ApplicationID, pub)
	if err != nil {
		writeErr(w, http.StatusInternalServerError, "server_error", "issuing the client certificate: "+err.Error())
		return
	}
	c := &Client{
		ClientID: clientID, AppID: app.ID,
		DeviceID: p.DeviceID, DeviceOS: p.DeviceOS, DeviceOSVersion: osVersionOf(p.DeviceOS), DeviceModel: p.DeviceModel,
		Environment: p.Environment, ApplicationID: p.ApplicationID, ApplicationVersion: p.ApplicationVersion,
		KeyBits: pub.N.BitLen(), RegisteredAt: s.now(), PublicKey: pub,
	}
	s.mu.Lock()
	if s.apps[app.ID] != a {
		s.mu.Unlock()
		writeErr(w, http.StatusNotFound, "unknown_app", "app was removed during registration")
		return
	}
	a.clients[clientID] = c
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]string{
		"certificate": base64.StdEncoding.EncodeToString(cert),
		"clientId":    clientID,
	})
}

// certAuthority is the self-signed CA that signs client certificates.
type certAuthority struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

var (
	oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidDC  = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
)

func (s *Server) certAuthority() (*certAuthority, error) {
	s.mu.Lock()
	ca := s.ca
	s.mu.Unlock()
	if ca != nil {
		return ca, nil
	}
	key, err := s.pool.get()
	if err != nil {
		return nil, err
	}
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mcaspec fakeaz client CA", Organization: []string{"mcaspec"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ca == nil {
		s.ca = &certAuthority{key: key, cert: cert}
	}
	return s.ca, nil
}

// CACertificate returns the CA certificate that signs client certificates
// (created on first use).
func (s *Server) CACertificate() (*x509.Certificate, error) {
	ca, err := s.certAuthority()
	if err != nil {
		return nil, err
	}
	return ca.cert, nil
}

// issueCertificate signs the client certificate: subject DC=<applicationId>,
// UID=<clientId> in that order, as the certificates in both SDKs' tests
// (fakedevice/testdata/sdk-vectors.json); the Android SDK reads the clientId
// from the UID (CertificatesUtility.getClientIdFromCertificate).
func (s *Server) issueCertificate(clientID, applicationID string, pub *rsa.PublicKey) ([]byte, error) {
	ca, err := s.certAuthority()
	if err != nil {
		return nil, err
	}
	var subject []pkix.AttributeTypeAndValue
	if applicationID != "" {
		subject = append(subject, pkix.AttributeTypeAndValue{Type: oidDC, Value: applicationID})
	}
	subject = append(subject, pkix.AttributeTypeAndValue{Type: oidUID, Value: clientID})
	now := s.now()
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetBytes(s.randBytes(16)),
		Subject:      pkix.Name{ExtraNames: subject},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
}
