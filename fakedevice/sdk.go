package fakedevice

import (
	"fmt"
	"io"
	"time"
)

// Platform names the client SDK a device imitates, as its CSR's
// "environment" field does. Everything that differs between the two SDKs
// (what they send, how they read answers, how they fail) is carried by the
// platform's sdk value below, so the rest of the package never branches on
// the platform's name.
type Platform string

// Platforms, as sent in the CSR's "environment" field.
const (
	PlatformIOS     Platform = "iOSnative"
	PlatformAndroid Platform = "android"
)

// Platforms lists every platform (a new slice on each call).
func Platforms() []Platform { return []Platform{PlatformIOS, PlatformAndroid} }

// ParsePlatform checks a platform name ("" is DefaultPlatform).
func ParsePlatform(s string) (Platform, error) {
	switch p := Platform(s); p {
	case "":
		return DefaultPlatform, nil
	case PlatformIOS, PlatformAndroid:
		return p, nil
	}
	return "", fmt.Errorf("%w: Platform %q (want %q or %q)", ErrConfig, s, PlatformIOS, PlatformAndroid)
}

// sdk is the behaviour of one platform's real client SDK (sdkrules.go names
// the files and lines each rule follows).
type sdk struct {
	platform Platform
	// deviceModel and osVersion are Config's defaults on this platform.
	deviceModel, osVersion string
	// deviceOS is the CSR's deviceOs; legacyDeviceOS makes
	// Config.LegacyAndroidDeviceOS send the OS release instead.
	deviceOS       string
	legacyDeviceOS bool
	quirks         Quirks
	// maxReauthorizations: see MaxReauthorizations.
	maxReauthorizations  int
	isAuthChallenge      func(status int, wwwAuthenticate []string) bool
	isCompositeChallenge func(status int, values []string) bool
	isRedirect           func(status int) bool
	queryParam           func(rawQuery, name string) (string, bool, error)
	// decodeIDPayload decodes the id token's payload segment.
	decodeIDPayload func(seg string) ([]byte, error)
	newDeviceID     func(r io.Reader) (string, error)
	// certSlack is how far ahead the issued certificate must be valid
	// (0: not checked).
	certSlack time.Duration
	// reregistersOn400: a 400 of the authorization endpoint wipes the
	// registration and registers again (once).
	reregistersOn400 bool
	// absoluteLocation: a relative redirect Location fails.
	absoluteLocation bool
	// failureStops: a wl_result failure stops the authorization (and its
	// success handlers); otherwise both kinds of handler fire and the code
	// is still looked for.
	failureStops bool
	// wlResultAnyCase: the wl_result parameter and its failure/success keys
	// are matched ignoring case.
	wlResultAnyCase bool
	// wlResultMentionFails: a query mentioning wl_result without a value the
	// SDK extracts fails the authorization.
	wlResultMentionFails bool
	// idTokenFailureFails: a token answer whose id token the SDK cannot
	// decode fails the authorization (the tokens are saved either way).
	idTokenFailureFails bool
	// googleField is the answer field of the Google realm.
	googleField string
}

var (
	iosSDK = sdk{
		platform: PlatformIOS, deviceModel: "iPhone", osVersion: "9.3.2", deviceOS: "iOS",
		quirks:               Quirks{PaddedBase64: true, StdAlphabetJPK: true, LeadingZeroModulus: true, EscapeSlashes: true, SDKIDTokenDecoding: true},
		maxReauthorizations:  1,
		isAuthChallenge:      iosAuthChallenge,
		isCompositeChallenge: iosCompositeChallenge,
		isRedirect:           func(status int) bool { return status >= 300 && status < 399 },
		queryParam:           iosQueryParam,
		decodeIDPayload:      decodeIOS,
		newDeviceID:          iosDeviceID,
		reregistersOn400:     true,
		wlResultAnyCase:      true,
		googleField:          "idToken",
	}
	androidSDK = sdk{
		platform: PlatformAndroid, deviceModel: "Android SDK built for x86_64", osVersion: "6.0", deviceOS: "android",
		legacyDeviceOS:       true,
		quirks:               Quirks{PaddedBase64: true, PaddedJPK: true, LeadingZeroModulus: true, EscapeSlashes: true, SDKIDTokenDecoding: true},
		maxReauthorizations:  2,
		isAuthChallenge:      androidAuthChallenge,
		isCompositeChallenge: androidCompositeChallenge,
		isRedirect:           androidRedirect,
		queryParam:           androidQueryParam,
		decodeIDPayload:      decodeAndroidDefault,
		newDeviceID:          androidDeviceID,
		certSlack:            certValiditySlack,
		absoluteLocation:     true,
		failureStops:         true,
		wlResultMentionFails: true,
		idTokenFailureFails:  true,
		googleField:          "accessToken",
	}
)

// sdkOf returns the platform's SDK; any platform but Android behaves as
// iOS, as the package always did for the functions that take a platform.
func sdkOf(p Platform) *sdk {
	if p == PlatformAndroid {
		return &androidSDK
	}
	return &iosSDK
}

// csrDeviceOS is the CSR's deviceOs as the SDK sends it.
func (s *sdk) csrDeviceOS(cfg Config) string {
	if s.legacyDeviceOS && cfg.LegacyAndroidDeviceOS {
		return cfg.OSVersion
	}
	return s.deviceOS
}
