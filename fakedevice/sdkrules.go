package fakedevice

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
)

// The rules in this file are transcriptions of the public IBM client SDKs,
// read at these commits (Apache-2.0; their code is not copied here):
//
//	Android: github.com/ibm-bluemix-mobile-services/bms-clientsdk-android-core
//	         @ ad41b7195e6b5e8930142b080d5d494ce24b5755 (paths below under
//	         lib/src/main/java/com/ibm/mobilefirstplatform/clientsdk/android/)
//	iOS:     github.com/ibm-bluemix-mobile-services/bms-clientsdk-swift-security
//	         @ c26988a7f5de338c1d9e0d43a64c2b6db33be541 (Swift 3 branch of each file)
//	         github.com/ibm-bluemix-mobile-services/bms-clientsdk-swift-core
//	         @ 5bb946b6584d8f99f5bb6071c7a9618e5bcdaf1e
//
// Each function names the file and lines it follows.

// Commits of the SDK sources the rules follow.
const (
	AndroidSDKCommit   = "ad41b7195e6b5e8930142b080d5d494ce24b5755" // bms-clientsdk-android-core
	IOSSDKCommit       = "c26988a7f5de338c1d9e0d43a64c2b6db33be541" // bms-clientsdk-swift-security
	IOSCoreSDKCommit   = "5bb946b6584d8f99f5bb6071c7a9618e5bcdaf1e" // bms-clientsdk-swift-core
	authRealmQuoted    = `"imfauthentication"`
	compositeChallenge = "WL-Composite-Challenge"
)

// IsAuthChallenge reports whether the real SDK of platform (PlatformIOS or
// PlatformAndroid) treats a response of a protected resource, with this
// status and these WWW-Authenticate values (in the order received), as a
// request to authorize again. Any other platform value reports false.
//
// Android (security/mca/api/MCAAuthorizationManager.java lines 164-172,
// security/mca/internal/AuthorizationHeaderHelper.java lines 72-85, called
// from core/api/Request.java line 432): the status is 401 or 403 and the
// FIRST WWW-Authenticate value, lower-cased, starts with "bearer" and
// contains `"imfauthentication"` with the double quotes.
//
// iOS (Source/mca/api/MCAAuthorizationManager.swift lines 154-163, called
// from bms-clientsdk-swift-core Source/Network Requests/BMSURLSessionUtility.swift
// lines 152-163 with HTTPURLResponse.allHeaderFields, which joins repeated
// headers with ", "): the status is 401 or 403 and the joined value,
// lower-cased, contains "bearer" anywhere and `"imfauthentication"` with the
// double quotes.
//
// So `Bearer realm="imfAuthentication"` is recognised by both,
// `Bearer realm=imfAuthentication` (no quotes) and `Basic realm="imfAuthentication"`
// by neither, `Basic realm="x", Bearer realm="imfAuthentication"` in one
// value by iOS only, and a Bearer challenge that is not the first
// WWW-Authenticate header by iOS only.
func IsAuthChallenge(platform Platform, status int, wwwAuthenticate []string) bool {
	if platform != PlatformIOS && platform != PlatformAndroid {
		return false
	}
	return sdkOf(platform).isAuthChallenge(status, wwwAuthenticate)
}

func isChallengeStatus(status int, wwwAuthenticate []string) bool {
	return (status == http.StatusUnauthorized || status == http.StatusForbidden) && len(wwwAuthenticate) > 0
}

func androidAuthChallenge(status int, wwwAuthenticate []string) bool {
	if !isChallengeStatus(status, wwwAuthenticate) {
		return false
	}
	v := strings.ToLower(wwwAuthenticate[0])
	return strings.HasPrefix(v, "bearer") && strings.Contains(v, authRealmQuoted)
}

func iosAuthChallenge(status int, wwwAuthenticate []string) bool {
	if !isChallengeStatus(status, wwwAuthenticate) {
		return false
	}
	v := strings.ToLower(strings.Join(wwwAuthenticate, ", "))
	return strings.Contains(v, "bearer") && strings.Contains(v, authRealmQuoted)
}

// IsAuthChallengeForAll reports whether every real SDK (Android and iOS)
// recognises the response as a request to authorize again (see
// IsAuthChallenge). A refusal that a device can recover from must pass it.
func IsAuthChallengeForAll(status int, wwwAuthenticate []string) bool {
	return IsAuthChallenge(PlatformAndroid, status, wwwAuthenticate) && IsAuthChallenge(PlatformIOS, status, wwwAuthenticate)
}

// MaxReauthorizations is how many times the platform's SDK authorizes again
// for one request that keeps being answered with a challenge: Android 2
// (core/api/Request.java lines 436-456, `oauthFailCounter++ < 2`), iOS 1
// (bms-clientsdk-swift-core BMSURLSessionUtility.swift lines 60-75 and
// 169-191: the request is resent on a plain URLSession whose answer goes
// straight to the app).
func MaxReauthorizations(platform Platform) int { return sdkOf(platform).maxReauthorizations }

// androidCompositeChallenge and iosCompositeChallenge report whether an answer of the authorization
// endpoint is a challenge the platform's SDK answers. Android
// (security/mca/internal/AuthorizationRequestManager.java lines 439-450):
// status 401 and the first WWW-Authenticate value equal to
// "WL-Composite-Challenge" ignoring case. iOS
// (Source/mca/internal/AuthorizationRequestManager.swift lines 98-105 and
// 150-172): any non-2xx, non-3xx answer whose WWW-Authenticate (joined) is
// exactly "WL-Composite-Challenge".
func androidCompositeChallenge(status int, values []string) bool {
	return len(values) > 0 && status == http.StatusUnauthorized && strings.EqualFold(values[0], compositeChallenge)
}

func iosCompositeChallenge(status int, values []string) bool {
	return len(values) > 0 && (status < 200 || status > 399) && strings.Join(values, ", ") == compositeChallenge
}

// androidRedirect reports whether the Android SDK reads (iOS: sdk.isRedirect) the answer of the
// authorization endpoint as the redirect carrying the code. Android:
// okhttp3 Response.isRedirect (core/internal/ResponseImpl.java lines 189-193):
// 300, 301, 302, 303, 307, 308. iOS: `300..<399 ~= statusCode`
// (Source/mca/internal/AuthorizationRequestManager.swift lines 130-132):
// 300 to 398.
func androidRedirect(status int) bool {
	switch status {
	case 300, 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// javaSplit splits s like Java's String.split with a literal one-character
// separator: trailing empty strings are removed.
func javaSplit(s, sep string) []string {
	parts := strings.Split(s, sep)
	for len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	return parts
}

// errQueryDecode is the error of an SDK's URL decoder on a malformed escape.
var errQueryDecode = errors.New("malformed percent-encoding in the redirect query")

// androidQueryParam and iosQueryParam return a parameter of a redirect's raw query as the
// platform's SDK extracts it, and whether it was found.
//
// Android (security/mca/internal/Utils.java lines 48-68): the query is
// split on "&", each part on "=" with Java's String.split (trailing empty
// strings dropped); only parts with exactly two pieces count; key and value
// are decoded with URLDecoder ("+" is a space; a bad escape throws, which
// fails the authorization); the key is compared case-sensitively.
//
// iOS (Source/mca/internal/Utils.swift lines 58-82): components(separatedBy:)
// keeps empty pieces; only parts with exactly two pieces count; key and value
// go through removingPercentEncoding ("+" stays; a bad escape gives nil: the
// part is skipped, or the value is missing); the code and wl_result keys are
// compared ignoring case (AuthorizationProcessManager.swift line 287,
// AuthorizationRequestManager.swift line 374).
func androidQueryParam(rawQuery, name string) (string, bool, error) {
	return queryRules{
		split: javaSplit, unescape: url.QueryUnescape,
		sameKey: func(k, name string) bool { return k == name }, badEscape: errQueryDecode,
	}.param(rawQuery, name)
}

func iosQueryParam(rawQuery, name string) (string, bool, error) {
	return queryRules{split: strings.Split, unescape: url.PathUnescape, sameKey: strings.EqualFold}.param(rawQuery, name)
}

// queryRules are how an SDK splits a query into key=value parts, decodes
// them and compares keys. badEscape is the error a malformed escape fails
// with; nil: a part whose key does not decode is skipped, and a value that
// does not decode is missing.
type queryRules struct {
	split     func(s, sep string) []string
	unescape  func(string) (string, error)
	sameKey   func(key, name string) bool
	badEscape error
}

func (r queryRules) param(rawQuery, name string) (string, bool, error) {
	for _, part := range strings.Split(rawQuery, "&") {
		kv := r.split(part, "=")
		if len(kv) != 2 {
			continue
		}
		k, err := r.unescape(kv[0])
		if err != nil && r.badEscape != nil {
			return "", false, r.badEscape
		}
		if err != nil || !r.sameKey(k, name) {
			continue
		}
		v, err := r.unescape(kv[1])
		if err != nil {
			return "", false, r.badEscape
		}
		return v, true, nil
	}
	return "", false, nil
}

// Outcomes of decoding the id token's payload the way an SDK does.
var (
	// errAndroidBase64 is android.util.Base64's "bad base-64".
	errAndroidBase64 = errors.New("android.util.Base64: bad base-64")
	// errIOSBase64 is Utils.decodeBase64WithString returning nil.
	errIOSBase64 = errors.New("Utils.decodeBase64WithString returned nil")
)

const stdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// decodeAndroidDefault decodes s as android.util.Base64.decode(s,
// Base64.DEFAULT) does (the call in security/mca/internal/AuthorizationProcessManager.java
// line 397): characters outside the standard alphabet ('-' and '_'
// included) are skipped silently, so a base64url payload holding them
// decodes to shifted garbage; decoding stops at '='; one dangling
// character is an error.
func decodeAndroidDefault(s string) ([]byte, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			break
		}
		if strings.IndexByte(stdAlphabet, c) >= 0 {
			b.WriteByte(c)
		}
	}
	clean := b.String()
	if len(clean)%4 == 1 {
		return nil, errAndroidBase64
	}
	return base64.RawStdEncoding.DecodeString(clean)
}

// decodeIOS decodes s as Utils.decodeBase64WithString does
// (Source/mca/internal/Utils.swift lines 164-250 with the table in
// BMSSecurityConstants.swift lines 40-57): the standard alphabet, padding
// optional; '-' and '_' (and any other character but whitespace) make it
// return nil.
func decodeIOS(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(stdAlphabet, s[i]) < 0 {
			return nil, errIOSBase64
		}
	}
	if len(s)%4 == 1 {
		return nil, errIOSBase64
	}
	return base64.RawStdEncoding.DecodeString(s)
}
