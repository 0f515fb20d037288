package tokenfactory_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwa"
	"github.com/lestrrat-go/jwx/v3/jwt"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const testApp = "7c1f5a4e-0b6d-4e8a-9a53-1d2f3e4a5b6c"

var testNow = time.Unix(1_800_000_000, 0)

func newFactory(t *testing.T) *tokenfactory.Factory {
	t.Helper()
	f, err := tokenfactory.New(testKey(t), tokenfactory.WithClock(func() time.Time { return testNow }), tokenfactory.WithIssuer("http://127.0.0.1:1/imf-authserver"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// tolerated lists the mutations whose token a permissive but correct
// RS256 JWT library (jwx with audience and issuer checks) still accepts,
// so the generic "jwx rejects it" check cannot show they are broken; each
// one has a specific check in TestMutationSpecifics instead.
var tolerated = map[string]bool{
	"aud/array":                     true, // RFC 7519 allows an array
	"no-prn":                        true,
	"oversized/65536":               true,
	"many-claims/100000":            true,
	"duplicate-claim/aud/bad-first": true, // last key wins in Go's JSON
	"duplicate-claim/exp/bad-first": true,
	"not-json/payload/invalid-utf8": true,
	"not-json/header/invalid-utf8":  true,
	"no-exp":                        true, // jwx does not require exp
	// jwx 3.3 is lenient here: it decodes padded and standard-alphabet
	// segments and reads numeric claims given as strings.
	"encoding/padded":       true,
	"encoding/std-alphabet": true,
	"retype/exp/string":     true,
	"retype/iat/string":     true,
	// jwx ignores zip on a JWS, a kid when verifying with an explicit key,
	// and bytes after the payload's JSON object (its decoder stops there).
	"zip/DEF":                     true,
	"kid/../../publickey":         true,
	"kid//dev/null":               true,
	"json-framing/trailing-bytes": true,
}

func TestEveryMutationBreaksTheToken(t *testing.T) {
	t.Parallel()
	f := newFactory(t)
	all, err := tokenfactory.All(tokenfactory.Params{Attacker: otherKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 60 {
		t.Fatalf("only %d mutations", len(all))
	}
	valid, err := f.AccessToken(tokenfactory.Access{AppID: testApp, ClientID: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	if err := jwxAccepts(t, f, valid); err != nil {
		t.Fatalf("the unmutated token is refused: %v", err)
	}
	for _, m := range all {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			if m.Doc == "" || m.Name == "" {
				t.Fatal("mutation without name or doc")
			}
			tok, err := f.AccessToken(tokenfactory.Access{AppID: testApp, ClientID: "c1"}, m)
			if err != nil {
				t.Fatalf("mint: %v", err)
			}
			if tok == valid {
				t.Fatal("token unchanged by the mutation")
			}
			err = jwxAccepts(t, f, tok)
			if tolerated[m.Name] {
				if err != nil {
					t.Errorf("expected jwx to tolerate %s, it refused: %v (update the tolerated list)", m.Name, err)
				}
				return
			}
			if err == nil {
				t.Errorf("jwx accepts the token, so the mutation breaks nothing: %s", tok)
			}
		})
	}
}

func jwxAccepts(t *testing.T, f *tokenfactory.Factory, tok string) error {
	t.Helper()
	_, err := jwt.ParseString(tok,
		jwt.WithKey(jwa.RS256(), f.PublicKey()),
		jwt.WithAudience(testApp), jwt.WithIssuer(f.Issuer()),
		jwt.WithClock(jwt.ClockFunc(func() time.Time { return testNow })))
	return err
}

func segments(t *testing.T, tok string) (hdr, payload map[string]any, sig []byte) {
	t.Helper()
	p := strings.Split(tok, ".")
	if len(p) != 3 {
		t.Fatalf("%d segments", len(p))
	}
	dec := func(s string, v any) {
		b, err := tokenfactory.B64.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		if v != nil {
			if err := json.Unmarshal(b, v); err != nil {
				t.Fatal(err)
			}
		} else {
			sig = b
		}
	}
	dec(p[0], &hdr)
	dec(p[1], &payload)
	dec(p[2], nil)
	return
}

func TestMutationSpecifics(t *testing.T) {
	t.Parallel()
	f := newFactory(t)
	access := tokenfactory.Access{AppID: testApp, ClientID: "c1"}
	mint := func(t *testing.T, m ...tokenfactory.Mutation) string {
		tok, err := f.AccessToken(access, m...)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	valid := mint(t)
	t.Run("expired", func(t *testing.T) {
		_, c, _ := segments(t, mint(t, tokenfactory.ExpiredBy(time.Minute)))
		if c["exp"] != float64(testNow.Add(-time.Minute).Unix()) {
			t.Errorf("exp %v", c["exp"])
		}
	})
	t.Run("exp-now", func(t *testing.T) {
		_, c, _ := segments(t, mint(t, tokenfactory.ExpiresIn(0)))
		if c["exp"] != float64(testNow.Unix()) {
			t.Errorf("exp %v", c["exp"])
		}
	})
	t.Run("no-exp", func(t *testing.T) {
		_, c, _ := segments(t, mint(t, tokenfactory.NoExp()))
		if _, ok := c["exp"]; ok {
			t.Error("exp present")
		}
	})
	t.Run("aud-array", func(t *testing.T) {
		_, c, _ := segments(t, mint(t, tokenfactory.AudArray()))
		arr, ok := c["aud"].([]any)
		if !ok || len(arr) != 1 || arr[0] != testApp {
			t.Errorf("aud %v", c["aud"])
		}
	})
	t.Run("near-misses differ from the app id", func(t *testing.T) {
		seen := map[string]bool{testApp: true}
		for _, k := range tokenfactory.AudNearMisses() {
			_, c, _ := segments(t, mint(t, tokenfactory.AudNearMiss(k)))
			aud, _ := c["aud"].(string)
			if seen[aud] || !strings.EqualFold(strings.TrimSpace(aud), testApp) && !strings.HasPrefix(aud, testApp[:30]) {
				t.Errorf("%s: aud %q is not a fresh near miss", k, aud)
			}
			seen[aud] = true
		}
	})
	t.Run("alg none keeps payload, drops or keeps signature", func(t *testing.T) {
		vp := strings.Split(valid, ".")
		for _, keep := range []bool{false, true} {
			for _, s := range tokenfactory.AlgNoneSpellings() {
				tok := mint(t, tokenfactory.AlgNone(s, keep))
				p := strings.Split(tok, ".")
				h, _, _ := segments(t, strings.Join([]string{p[0], p[1], "AA"}, "."))
				if h["alg"] != s || p[1] != vp[1] {
					t.Errorf("%s: header %v", s, h)
				}
				if keep != (p[2] == vp[2]) || !keep && p[2] != "" {
					t.Errorf("%s keep=%v: signature %q", s, keep, p[2])
				}
			}
		}
	})
	t.Run("hs256 with the public key verifies under HMAC", func(t *testing.T) {
		for _, form := range tokenfactory.KeyForms() {
			tok := mint(t, tokenfactory.HS256WithPublicKey(form))
			secret, err := tokenfactory.KeyBytes(f.PublicKey(), form)
			if err != nil {
				t.Fatal(err)
			}
			i := strings.LastIndexByte(tok, '.')
			h := hmac.New(sha256.New, secret)
			h.Write([]byte(tok[:i]))
			if got := tokenfactory.B64.EncodeToString(h.Sum(nil)); got != tok[i+1:] {
				t.Errorf("%s: HMAC does not verify", form)
			}
			if hdr, _, _ := segments(t, tok); hdr["alg"] != "HS256" {
				t.Errorf("%s: alg %v", form, hdr["alg"])
			}
		}
	})
	t.Run("flip-bit flips exactly one bit", func(t *testing.T) {
		for seg := range tokenfactory.Segment(3) {
			tok := mint(t, tokenfactory.FlipBit(seg))
			a, _ := tokenfactory.B64.DecodeString(strings.Split(valid, ".")[seg])
			b, _ := tokenfactory.B64.DecodeString(strings.Split(tok, ".")[seg])
			if len(a) != len(b) {
				t.Fatalf("seg %d: length changed", seg)
			}
			bits := 0
			for i := range a {
				for x := a[i] ^ b[i]; x != 0; x &= x - 1 {
					bits++
				}
			}
			if bits != 1 {
				t.Errorf("seg %d: %d bits differ", seg, bits)
			}
			if seg != 2 && !json.Valid(b) {
				t.Errorf("seg %d: flipped JSON is not valid JSON: %s", seg, b)
			}
		}
	})
	t.Run("padded and std alphabet really use them", func(t *testing.T) {
		p := strings.Split(mint(t, tokenfactory.Padded()), ".")
		if !strings.HasSuffix(p[1], "=") {
			t.Errorf("payload not padded: %s", p[1])
		}
		s := strings.Split(mint(t, tokenfactory.StdAlphabet()), ".")
		if !strings.ContainsAny(s[1], "+/") {
			t.Errorf("payload has no +/: %s", s[1])
		}
	})
	t.Run("duplicate claim appears twice", func(t *testing.T) {
		for _, first := range []bool{true, false} {
			tok := mint(t, tokenfactory.DuplicateClaim("aud", "other", first))
			raw, _ := tokenfactory.B64.DecodeString(strings.Split(tok, ".")[1])
			if n := bytes.Count(raw, []byte(`"aud":`)); n != 2 {
				t.Errorf("first=%v: aud appears %d times in %s", first, n, raw)
			}
			var c map[string]any
			if err := json.Unmarshal(raw, &c); err != nil {
				t.Fatal(err)
			}
			if want := map[bool]string{true: testApp, false: "other"}[first]; c["aud"] != want {
				t.Errorf("first=%v: last aud %v", first, c["aud"])
			}
		}
	})
	t.Run("invalid utf8 payload", func(t *testing.T) {
		raw, _ := tokenfactory.B64.DecodeString(strings.Split(mint(t, tokenfactory.NotJSONObject(tokenfactory.SegPayload, tokenfactory.JSONInvalidUTF8)), ".")[1])
		if !bytes.Contains(raw, []byte{0xff, 0xfe}) {
			t.Errorf("no invalid UTF-8: %q", raw)
		}
	})
	t.Run("retyped, oversized and crowded claims", func(t *testing.T) {
		for _, name := range []string{"exp", "iat"} {
			_, c, _ := segments(t, mint(t, tokenfactory.RetypeClaim(name, tokenfactory.TypeString)))
			if _, ok := c[name].(string); !ok {
				t.Errorf("%s is %T, want a JSON string", name, c[name])
			}
		}
		if tok := mint(t, tokenfactory.Oversized(64<<10)); len(tok) < 64<<10 {
			t.Errorf("oversized token is only %d bytes", len(tok))
		}
		if _, c, _ := segments(t, mint(t, tokenfactory.ManyClaims(1000))); len(c) < 1000 {
			t.Errorf("%d claims", len(c))
		}
		if _, c, _ := segments(t, mint(t, tokenfactory.WithoutClaim("prn"))); c["prn"] != nil {
			t.Error("prn still present")
		}
		raw, _ := tokenfactory.B64.DecodeString(strings.Split(mint(t, tokenfactory.NotJSONObject(tokenfactory.SegHeader, tokenfactory.JSONInvalidUTF8)), ".")[0])
		if !bytes.Contains(raw, []byte{0xff, 0xfe}) {
			t.Errorf("header has no invalid UTF-8: %q", raw)
		}
	})
	t.Run("psychic signature is zeros", func(t *testing.T) {
		h, _, sig := segments(t, mint(t, tokenfactory.PsychicES256()))
		if h["alg"] != "ES256" || len(sig) != 64 || !bytes.Equal(sig, make([]byte, 64)) {
			t.Errorf("alg %v sig %x", h["alg"], sig)
		}
	})
	t.Run("embedded x5c is a certificate of the attacker key", func(t *testing.T) {
		h, _, _ := segments(t, mint(t, tokenfactory.EmbeddedKey(tokenfactory.EmbedX5C, otherKey(t))))
		arr, _ := h["x5c"].([]any)
		if len(arr) != 1 {
			t.Fatalf("x5c %v", h["x5c"])
		}
		if _, err := base64.StdEncoding.DecodeString(arr[0].(string)); err != nil {
			t.Error(err)
		}
	})
}

func TestPKCS1PEMMatchesRSAPemFromModExp(t *testing.T) {
	t.Parallel()
	// testdata/rsa-pem-from-mod-exp.golden was printed by the npm package
	// rsa-pem-from-mod-exp 0.8.6 for the modulus and exponent in
	// testdata/publickey.json (see testdata/README.md).
	pubJSON := readFile(t, "testdata/publickey.json")
	golden := readFile(t, "testdata/rsa-pem-from-mod-exp.golden")
	pub, err := tokenfactory.ParsePublicKeyJSON(pubJSON)
	if err != nil {
		t.Fatal(err)
	}
	got, err := tokenfactory.KeyBytes(pub, tokenfactory.KeyPKCS1PEM)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, golden) {
		t.Errorf("PKCS#1 PEM differs from rsa-pem-from-mod-exp:\n%s\nwant\n%s", got, golden)
	}
}

func TestAllNamesUniqueAndFindable(t *testing.T) {
	t.Parallel()
	all, err := tokenfactory.All(tokenfactory.Params{Attacker: otherKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range all {
		if got, ok := tokenfactory.Find(all, m.Name); !ok || got.Name != m.Name {
			t.Errorf("Find(%q) failed", m.Name)
		}
	}
	if _, ok := tokenfactory.Find(all, "no-such-mutation"); ok {
		t.Error("Find found a missing name")
	}
	if _, err := tokenfactory.All(tokenfactory.Params{}); err == nil {
		t.Error("All without attacker key should fail")
	}
}
