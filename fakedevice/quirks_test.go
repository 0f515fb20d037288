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
		{"standard alphabet jpk", fakedevice.Quirks{StdAlphabetJPK: true}, func(t *testing.T, jws string) {
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
		{"all", fakedevice.RealSDKQuirks(), func(t *testing.T, jws string) {
			hdr := rawHeader(t, jws)
			mod, err := base64.StdEncoding.DecodeString(jpkMod(t, hdr))
			if err != nil || mod[0] != 0 || !bytes.Contains(hdr, []byte(`\/`)) || !strings.HasSuffix(jws, "=") {
				t.Errorf("header %s, JWS %q", hdr, jws)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := newAZ(t, anonymous) // verifies every JWS strictly, with the jpk key
			cfg := az.config()
			cfg.Key, cfg.Quirks = quirkKey, tc.quirks
			cfg.Quirks.StdBase64IDToken = false // anonymous ASCII tokens decode either way
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
	cfg.Key, cfg.KeyBits, cfg.Quirks = nil, fakedevice.LegacyKeyBits, fakedevice.RealSDKQuirks()
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

// The SDKs decoded the id-token payload with the standard base64 alphabet:
// a non-ASCII display name puts '-' or '_' in the payload and breaks them.
func TestStdBase64IDTokenQuirk(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		displayName string
		quirk       bool
		wantDash    bool // precondition: the payload's base64url has '-' or '_'
		wantErr     bool
	}{
		{"non-ASCII name, quirk on: fails like the SDKs", "Zoë ÿÿÿÿ", true, true, true},
		{"non-ASCII name, quirk off: decodes", "Zoë ÿÿÿÿ", false, true, false},
		{"ASCII name, quirk on: decodes", "John Doe", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			user := &tokenfactory.User{ID: "u1", AuthBy: "r", DisplayName: tc.displayName}
			az := newAZ(t, func(int, map[string]json.RawMessage) (step, error) { return step{user: user}, nil })
			cfg := az.config()
			cfg.Quirks.StdBase64IDToken = tc.quirk
			d := newDevice(t, cfg)
			if err := d.Login(ctxT(t)); err != nil {
				t.Fatal(err)
			}
			payload := strings.Split(d.Tokens().ID, ".")[1]
			if got := strings.ContainsAny(payload, "-_"); got != tc.wantDash {
				t.Fatalf("precondition: payload %q contains '-' or '_' = %v, want %v", payload, got, tc.wantDash)
			}
			c, err := d.IDTokenClaims()
			if tc.wantErr {
				if !errors.Is(err, fakedevice.ErrIDToken) {
					t.Errorf("IDTokenClaims: %v, want ErrIDToken", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.User == nil || c.User.DisplayName != tc.displayName || c.Raw["sub"] != c.Sub {
				t.Errorf("claims %+v", c)
			}
		})
	}
}
