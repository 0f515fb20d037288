package tokenfactory_test

import (
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

func TestInspect(t *testing.T) {
	t.Parallel()
	b64 := tokenfactory.B64.EncodeToString
	hdr, pay := b64([]byte(`{"alg":"RS256"}`)), b64([]byte(`{"prn":"u1","exp":1700000000}`))
	for _, tc := range []struct {
		name      string
		tok       string
		segments  int
		prn       string // "" when Claims fails
		canonical bool   // of the payload
		sigBytes  int    // -1: no signature segment
	}{
		{"valid", hdr + "." + pay + "." + b64([]byte("sig")), 3, "u1", true, 3},
		{"empty signature", hdr + "." + pay + ".", 3, "u1", true, 0},
		{"two segments", hdr + "." + pay, 2, "u1", true, -1},
		{"padded payload", hdr + "." + pay + "==." + b64([]byte("s")), 3, "u1", false, 1},
		{"std alphabet payload", hdr + "." + strings.NewReplacer("-", "+", "_", "/").Replace(b64([]byte(`{"prn":"??>>"}`))) + ".", 3, "??>>", false, 0},
		{"one segment", hdr, 1, "", false, -1},
		{"payload not base64", hdr + ".!!!.", 3, "", false, 0},
		{"payload not an object", hdr + "." + b64([]byte(`[1]`)) + ".", 3, "", true, 0},
		{"empty", "", 1, "", false, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := tokenfactory.Inspect(tc.tok)
			if in.Segments != tc.segments {
				t.Errorf("Segments %d, want %d", in.Segments, tc.segments)
			}
			prn, ok := in.StringClaim("prn")
			if prn != tc.prn || ok != (tc.prn != "") {
				t.Errorf("prn %q %v, want %q", prn, ok, tc.prn)
			}
			if tc.segments >= 2 && in.Payload.Canonical != tc.canonical {
				t.Errorf("payload Canonical %v, want %v", in.Payload.Canonical, tc.canonical)
			}
			if got := in.Signature.Present(); got != (tc.sigBytes >= 0) {
				t.Errorf("signature present %v, want %v", got, tc.sigBytes >= 0)
			} else if got && len(in.Signature.Bytes) != tc.sigBytes {
				t.Errorf("signature %d bytes, want %d", len(in.Signature.Bytes), tc.sigBytes)
			}
		})
	}
}

// Canonical holds exactly when the strict decoder the protocol implies
// (unpadded base64url) accepts the segment.
func FuzzInspect(f *testing.F) {
	f.Add("eyJhIjoxfQ.eyJiIjoyfQ.c2ln")
	f.Add("a.b=.c+/")
	f.Add(`x.e30\/.`)
	f.Fuzz(func(t *testing.T, tok string) {
		in := tokenfactory.Inspect(tok)
		if in.Segments != strings.Count(tok, ".")+1 {
			t.Fatalf("Segments %d for %q", in.Segments, tok)
		}
		for _, p := range []tokenfactory.Part{in.Header, in.Payload, in.Signature} {
			_, strictErr := tokenfactory.B64.DecodeString(p.Raw)
			if p.Present() && p.Canonical != (strictErr == nil) {
				t.Fatalf("segment %q: Canonical %v, strict decoding error %v", p.Raw, p.Canonical, strictErr)
			}
			if (p.Err == nil) == (p.Bytes == nil) && p.Present() {
				t.Fatalf("segment %q: Bytes %v and Err %v", p.Raw, p.Bytes, p.Err)
			}
		}
		_, _ = in.Claims()
	})
}
