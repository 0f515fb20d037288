package fakedevice

import (
	"crypto/md5"
	"encoding/hex"
	"io"
	"strings"
)

func newUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return formatUUID(b), nil
}

func formatUUID(b [16]byte) string {
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// NameUUIDFromBytes is Java's UUID.nameUUIDFromBytes: the MD5 of b with
// the version set to 3 and the IETF variant, lower-case. The Android SDK's
// deviceId is NameUUIDFromBytes([]byte(ANDROID_ID)).
func NameUUIDFromBytes(b []byte) string {
	sum := md5.Sum(b)
	sum[6] = sum[6]&0x0f | 0x30
	sum[8] = sum[8]&0x3f | 0x80
	return formatUUID(sum)
}

// androidDeviceID makes an id shaped like the Android SDK's: the v3 UUID of
// a random 16-hex ANDROID_ID.
func androidDeviceID(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return NameUUIDFromBytes([]byte(hex.EncodeToString(b[:]))), nil
}

// iosDeviceID makes an id shaped like the iOS SDK's: an upper-case UUID
// (identifierForVendor).
func iosDeviceID(r io.Reader) (string, error) {
	u, err := newUUID(r)
	return strings.ToUpper(u), err
}
