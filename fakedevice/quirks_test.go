package fakedevice_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

// rawHeader returns the decoded header of a compact JWS.
func rawHeader(t *testing.T, tok string) []byte {
	t.Helper()
	h, err := tokenfactory.DecodeLenient(strings.Split(tok, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func jpkMod(t *testing.T, hdr []byte) string {
	t.Helper()
	var h struct{ JPK struct{ Mod, Exp string } }
	if err := json.Unmarshal(hdr, &h); err != nil {
		t.Fatal(err)
	}
	return h.JPK.Mod
}

func TestQuirksOnTheWire(t *testing.T) {
	t.Parallel()
	keys(t)
	for _, tc := range []struct {
		name   string
		quirks fakedevice.Quirks
		// check looks at one signed JWS (CSR or X-WL-Authenticate).
		check func(t *testing.T, jws string)
	}{
		{"none", fakedevice.Quirks{}, func(t *testing.T, jws string) {
			if strings.ContainsAny(jws, "=+/") {
				t.Errorf("JWS %q is not unpadded base64url", jws)
			}
			mod := jpkMod(t, rawHeader(t, jws))
			if mod != tokenfactory.B64.EncodeToString(quirkKey.N.Bytes()) {
				t.Errorf("mod %q is not the unpadded base64url modulus", mod)
			}
		}},
		{"padded base64url", fakedevice.Quirks{PaddedBase64: true}, func(t *testing.T, jws string) {
			for i, seg := range strings.Split(jws, ".") {
				if len(seg)%4 != 0 || strings.ContainsAny(seg, "+/") {
					t.Errorf("segment %d %q is not padded base64url", i, seg)
				}
			}
			// A 512-bit signature is 64 bytes: padded, it ends in "==".
			if !strings.HasSuffix(jws, "==") {
				t.Errorf("signature segment not padded: %q", jws)
			}
		}},
		{"standard alphabet jpk, escaped slashes", fakedevice.Quirks{StdAlphabetJPK: true, EscapeSlashes: true}, func(t *testing.T, jws string) {
			hdr := rawHeader(t, jws)
			std := base64.StdEncoding.EncodeToString(quirkKey.N.Bytes())
			if !bytes.Contains(hdr, []byte(strings.ReplaceAll(std, "/", `\/`))) {
				t.Errorf("header %s does not carry the standard-alphabet modulus with escaped slashes", hdr)
			}
			if !bytes.Contains(hdr, []byte(`\/`)) || !bytes.Contains(hdr, []byte("+")) {
				t.Errorf("header %s: test key should exercise '+' and '\\/'", hdr)
			}
			if jpkMod(t, hdr) != std {
				t.Errorf("decoded mod %q, want %q", jpkMod(t, hdr), std)
			}
		}},
		{"leading zero modulus", fakedevice.Quirks{LeadingZeroModulus: true}, func(t *testing.T, jws string) {
			mod, err := tokenfactory.DecodeLenient(jpkMod(t, rawHeader(t, jws)))
			if err != nil || mod[0] != 0 || !bytes.Equal(mod[1:], quirkKey.N.Bytes()) {
				t.Errorf("mod %x: want 00 || modulus", mod)
			}
		}},
		{"iOS SDK", fakedevice.SDKQuirks(fakedevice.PlatformIOS), func(t *testing.T, jws string) {
			hdr := rawHeader(t, jws)
			mod, err := base64.StdEncoding.DecodeString(jpkMod(t, hdr))
			if err != nil || mod[0] != 0 || !bytes.Contains(hdr, []byte(`\/`)) || !strings.HasSuffix(jws, "=") {
				t.Errorf("header %s, JWS %q", hdr, jws)
			}
		}},
		// DefaultJSONSigner.java: Base64.URL_SAFE|NO_WRAP (padded), BigInteger.toByteArray.
		{"Android SDK", fakedevice.SDKQuirks(fakedevice.PlatformAndroid), func(t *testing.T, jws string) {
			hdr := rawHeader(t, jws)
			m := jpkMod(t, hdr)
			mod, err := base64.URLEncoding.DecodeString(m)
			if err != nil || mod[0] != 0 || !bytes.Equal(mod[1:], quirkKey.N.Bytes()) || strings.ContainsAny(m, "+/") || !strings.HasSuffix(m, "=") {
				t.Errorf("mod %q: want padded base64url of 00 || modulus", m)
			}
			for i, seg := range strings.Split(jws, ".") {
				if len(seg)%4 != 0 || strings.ContainsAny(seg, "+/") {
					t.Errorf("segment %d %q is not padded base64url", i, seg)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous) // verifies every JWS strictly, with the jpk key
			cfg := az.config()
			q := tc.quirks
			q.SDKIDTokenDecoding = false // anonymous ASCII tokens decode either way
			cfg.Key, cfg.Quirks = quirkKey, &q
			d := newDevice(t, cfg)
			if err := d.Login(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			az.mu.Lock()
			jwss := append(append([]string{}, az.csrs...), az.proofs...)
			az.mu.Unlock()
			if len(jwss) != 2 {
				t.Fatalf("saw %d JWS, want a CSR and a proof", len(jwss))
			}
			for _, j := range jwss {
				tc.check(t, j)
			}
		})
	}
}

func TestLegacyKeyBits(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	cfg := az.config()
	cfg.Key, cfg.KeyBits = nil, fakedevice.LegacyKeyBits
	d := newDevice(t, cfg)
	if err := d.Login(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := d.PublicKey().N.BitLen(); n != 512 {
		t.Errorf("device key has %d bits, want 512", n)
	}
	az.mu.Lock()
	registered := az.clients[d.ClientID()].pub
	az.mu.Unlock()
	if !registered.Equal(d.PublicKey()) || !d.PublicKey().Equal(d.Certificate().PublicKey) {
		t.Error("AZ registered or certified another key")
	}
	if d.Timings().KeyGen <= 0 {
		t.Error("key generation time not accounted")
	}
}

func TestDefaultKeyBits(t *testing.T) {
	t.Parallel()
	az := newAZ(t, anonymous)
	cfg := az.config()
	cfg.Key = nil
	d := newDevice(t, cfg)
	if err := d.Register(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	if n := d.PublicKey().N.BitLen(); n != fakedevice.DefaultKeyBits {
		t.Errorf("device key has %d bits, want %d", n, fakedevice.DefaultKeyBits)
	}
}

// The SDKs decode the id-token payload with their own base64 decoders: a
// payload whose base64url holds '-' or '_' (e.g. a non-ASCII display name)
// fails. Android (AuthorizationProcessManager.java lines 384-409) then fails
// the whole authorization although the tokens were saved; iOS
// (AuthorizationProcessManager.swift lines 225-254) only loses imf.user.
func TestSDKIDTokenDecoding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		platform    fakedevice.Platform
		displayName string
		wellBehaved bool
		wantDash    bool // precondition: the payload's base64url has '-' or '_'
		wantLoginErr,
		wantUser bool
	}{
		{"android, non-ASCII name: authorization fails, tokens kept", fakedevice.PlatformAndroid, "Zoë ÿÿÿÿ", false, true, true, false},
		{"ios, non-ASCII name: user identity lost", fakedevice.PlatformIOS, "Zoë ÿÿÿÿ", false, true, false, false},
		{"android, ASCII name", fakedevice.PlatformAndroid, "John Doe", false, false, false, true},
		{"ios, ASCII name", fakedevice.PlatformIOS, "John Doe", false, false, false, true},
		{"well-behaved, non-ASCII name", fakedevice.PlatformAndroid, "Zoë ÿÿÿÿ", true, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			user := &tokenfactory.User{ID: "u1", AuthBy: "r", DisplayName: tc.displayName}
			az := newAZ(t, func(int, map[string]json.RawMessage) (step, error) { return step{user: user}, nil })
			cfg := az.config()
			cfg.Platform = tc.platform
			if tc.wellBehaved {
				cfg.Quirks = &fakedevice.Quirks{}
			}
			d := newDevice(t, cfg)
			err := d.Login(ctxT(t))
			if tc.wantLoginErr != (err != nil) || (err != nil && !errors.Is(err, fakedevice.ErrIDToken)) {
				t.Fatalf("Login: %v, want an ErrIDToken error: %v", err, tc.wantLoginErr)
			}
			if d.Tokens().Access == "" || d.Tokens().ID == "" {
				t.Fatal("tokens not saved")
			}
			payload := strings.Split(d.Tokens().ID, ".")[1]
			if got := strings.ContainsAny(payload, "-_"); got != tc.wantDash {
				t.Fatalf("precondition: payload %q contains '-' or '_' = %v, want %v", payload, got, tc.wantDash)
			}
			u := d.UserIdentity()
			if (u != nil) != tc.wantUser || (u != nil && u["displayName"] != tc.displayName) {
				t.Errorf("UserIdentity %v, want present: %v", u, tc.wantUser)
			}
			c, err := d.IDTokenClaims()
			if !tc.wantUser {
				if !errors.Is(err, fakedevice.ErrIDToken) {
					t.Errorf("IDTokenClaims: %v, want ErrIDToken", err)
				}
				return
			}
			if err != nil || c.User == nil || c.User.DisplayName != tc.displayName {
				t.Errorf("claims %+v, %v", c, err)
			}
		})
	}
}
