package reference

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// tokenKind tells an access token from an id token.
type tokenKind byte

const (
	kindAccess tokenKind = 'a'
	kindID     tokenKind = 'i'
)

func (k tokenKind) String() string {
	if k == kindID {
		return "id token"
	}
	return "access token"
}

// token is a parsed token whose structure and claims passed every check
// that needs no key.
type token struct {
	signingInput []byte
	sig          []byte
	alg          string
	header       []jsonField
	claims       []jsonField
	exp          float64 // seconds since the epoch; 0 when absent (insecure configs only)
	prn, sub     string
}

// rejection is a token check failure; transient ones (nbf in the future)
// must not be remembered in the rejected-token cache.
type rejection struct {
	err       *Error
	transient bool
}

func reject(kind tokenKind, desc string) *rejection {
	return &rejection{err: errToken(kind.String() + ": " + desc)}
}

// parseToken runs every check that needs no key, in an order that makes a
// forged token cheap: segments, encoding, JSON, alg, then claims.
func (v *Validator) parseToken(raw string, kind tokenKind, appID string, now time.Time) (*token, *rejection) {
	d1 := strings.IndexByte(raw, '.')
	d2 := strings.LastIndexByte(raw, '.')
	if d1 < 0 || d1 == d2 || strings.IndexByte(raw[d1+1:d2], '.') >= 0 {
		return nil, reject(kind, "not three dot-separated segments")
	}
	// One copy of the token as bytes serves as the signing input, and one
	// buffer receives the three decoded segments.
	tb := []byte(raw)
	buf := make([]byte, 0, len(tb)*3/4+3)
	var ok bool
	var hb, pb, sig []byte
	if buf, hb, ok = decodeSegment(buf, tb[:d1]); !ok {
		return nil, reject(kind, "header segment is empty or not unpadded base64url")
	}
	if buf, pb, ok = decodeSegment(buf, tb[d1+1:d2]); !ok {
		return nil, reject(kind, "payload segment is empty or not unpadded base64url")
	}
	if _, sig, ok = decodeSegment(buf, tb[d2+1:]); !ok {
		return nil, reject(kind, "signature segment is empty or not unpadded base64url")
	}
	t := &token{signingInput: tb[:d2], sig: sig}
	var err error
	if t.header, err = parseObject(hb, v.cfg.InsecureAllowDuplicateKeys); err != nil {
		return nil, reject(kind, "header: "+err.Error())
	}
	alg, ok := field(t.header, "alg")
	if !ok || alg.kind != 's' {
		return nil, reject(kind, "header has no string alg")
	}
	t.alg = alg.str
	if t.alg != tokenfactory.RS256 && !v.acceptAlgs[t.alg] {
		return nil, reject(kind, "alg "+strconv.Quote(t.alg)+" is not RS256")
	}
	// crit: no extension is understood (RFC 7515 §4.1.11). b64: RFC 7797
	// unencoded payloads, which MCA tokens never use (and which RFC 7797 §6
	// requires in crit). zip: a JWE parameter (RFC 7516 §4.1.3).
	for _, p := range [...]struct{ name, why string }{
		{"crit", "header has crit extensions this validator does not understand"},
		{"b64", "header has b64 (RFC 7797 unencoded payload), which MCA tokens never use"},
		{"zip", "header has zip, a JWE parameter that a JWS never carries"},
	} {
		if _, ok := field(t.header, p.name); ok && !v.ignoreHeader[p.name] {
			return nil, reject(kind, p.why)
		}
	}
	if v.cfg.InsecureLenientJSON {
		pb = lenientObject(pb)
	}
	if t.claims, err = parseObject(pb, v.cfg.InsecureAllowDuplicateKeys); err != nil {
		return nil, reject(kind, "payload: "+err.Error())
	}
	if r := v.checkClaims(t, kind, appID, now); r != nil {
		return nil, r
	}
	return t, nil
}

// decodeSegment appends the decoding of s to buf, strictly unpadded
// base64url: no '=', no '+' or '/', no whitespace, no non-zero trailing
// bits; empty segments are refused. It returns the grown buffer and the
// decoded bytes (a slice of it).
func decodeSegment(buf, s []byte) (grown, out []byte, ok bool) {
	// The decoder rejects every byte outside the base64url alphabet
	// (including '=' in RawURLEncoding) except CR and LF, which it skips.
	if len(s) == 0 || bytes.IndexByte(s, '\r') >= 0 || bytes.IndexByte(s, '\n') >= 0 {
		return buf, nil, false
	}
	start := len(buf)
	grown, err := base64.RawURLEncoding.Strict().AppendDecode(buf, s)
	if err != nil {
		return buf, nil, false
	}
	return grown, grown[start:len(grown):len(grown)], true
}

// maxExp is 2^63: an exp at or beyond it does not fit an int64 of seconds.
const maxExp = 9223372036854775808.0

// lenientObject is the payload as a lenient parser reads it
// (InsecureLenientJSON): a leading UTF-8 BOM skipped, anything after the
// first top-level object ignored.
func lenientObject(b []byte) []byte {
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	var raw json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&raw); err == nil {
		return raw
	}
	return b
}

// number returns a claim that must be a JSON number when present.
func number(fs []jsonField, name string) (val float64, present bool, ok bool) {
	f, present := field(fs, name)
	if !present {
		return 0, false, true
	}
	if f.kind != 'n' {
		return 0, true, false
	}
	x, err := strconv.ParseFloat(string(f.raw), 64)
	if err != nil || math.IsInf(x, 0) || math.IsNaN(x) {
		return 0, true, false
	}
	return x, true, true
}

func (v *Validator) checkClaims(t *token, kind tokenKind, appID string, now time.Time) *rejection {
	nowS := float64(now.UnixNano()) / 1e9
	leeway := v.cfg.Leeway.Seconds()
	c := t.claims

	exp, hasExp, ok := number(c, "exp")
	if f, _ := field(c, "exp"); v.cfg.InsecureIntegerExp && f != nil && bytes.ContainsAny(f.raw, ".eE") {
		exp, hasExp, ok = 0, false, true // an integer parser that gives up reads no exp
	}
	switch {
	case !ok && !v.cfg.InsecureSkipExpiry:
		return reject(kind, "exp is not a number")
	case !ok:
	case !hasExp && !v.cfg.InsecureSkipExpiry && !v.cfg.InsecureAllowMissingExp && !v.cfg.InsecureIntegerExp:
		return reject(kind, "no exp claim")
	case hasExp && exp >= maxExp && !v.cfg.InsecureSkipExpiry && !v.cfg.InsecureAllowHugeExp:
		return reject(kind, "exp is beyond the int64 range of seconds (a token that never expires)")
	case hasExp && !v.cfg.InsecureSkipExpiry && !(nowS < exp+leeway):
		return reject(kind, "expired")
	case hasExp:
		t.exp = exp
	}

	if !v.cfg.InsecureSkipNotBefore {
		nbf, hasNbf, ok := number(c, "nbf")
		if !ok {
			return reject(kind, "nbf is not a number")
		}
		if hasNbf && nbf > nowS+leeway {
			r := reject(kind, "not valid yet (nbf in the future)")
			r.transient = true
			return r
		}
	}
	if _, _, ok := number(c, "iat"); !ok {
		return reject(kind, "iat is not a number")
	}

	if !v.cfg.InsecureSkipAudience {
		aud, has := field(c, "aud")
		switch {
		case !has && !v.cfg.InsecureAllowMissingAudience:
			return reject(kind, "no aud claim")
		case has && aud.kind != 's':
			return reject(kind, "aud is not a string")
		case has && aud.str != appID:
			return reject(kind, "aud does not match the app id")
		}
	}
	if !v.cfg.InsecureSkipIssuer {
		iss, has := field(c, "iss")
		if !has || iss.kind != 's' || iss.str != v.cfg.Issuer {
			return reject(kind, "iss is missing or not the expected issuer")
		}
	}

	if kind == kindAccess {
		prn, has := field(c, "prn")
		if !has || prn.kind != 's' || prn.str == "" {
			return reject(kind, "no prn claim (string)")
		}
		t.prn = prn.str
		return nil
	}
	sub, has := field(c, "sub")
	if !has || sub.kind != 's' || sub.str == "" {
		return reject(kind, "no sub claim (string)")
	}
	t.sub = sub.str
	for _, name := range []string{claimUser, claimDevice, claimApplication} {
		if f, has := field(c, name); has && f.kind != 'o' {
			return reject(kind, name+" is not an object")
		}
	}
	return nil
}

// Claim names of the security context.
const (
	claimUser        = "imf.user"
	claimDevice      = "imf.device"
	claimApplication = "imf.application"
)

// bound reports whether the id token belongs to the access token's client:
// sub == prn or sub ends with ":"+prn.
func bound(access, id *token) bool {
	return id.sub == access.prn || strings.HasSuffix(id.sub, ":"+access.prn)
}

// verify checks t's signature under key (RS256 only, unless insecure
// switches say otherwise). RS256 goes through publicKey's prepared modulus;
// the algorithms only insecure configurations accept go through jwx.
func (v *Validator) verify(t *token, key *publicKey) bool {
	if v.cfg.InsecureSkipSignature {
		return true
	}
	if v.cfg.InsecureTrustEmbeddedKey {
		if jpk, ok := field(t.header, "jpk"); ok && jpk.kind == 'o' {
			if fs, err := parseObject(jpk.raw, true); err == nil {
				mod, _ := field(fs, "mod")
				exp, _ := field(fs, "exp")
				if mod != nil && exp != nil {
					if k, err := tokenfactory.DecodeModExp(mod.str, exp.str); err == nil {
						key = newPublicKey(k)
					}
				}
			}
		}
	}
	input, pub := t.signingInput, key.rsa
	switch {
	case t.alg == tokenfactory.RS256:
		return key.verifyRS256(input, t.sig)
	case strings.EqualFold(t.alg, "none"):
		return true // reachable only through InsecureAcceptAlgs
	case strings.HasPrefix(t.alg, "HS"):
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return false
		}
		secret := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
		return jwsbb.Verify(secret, t.alg, input, t.sig) == nil
	default:
		return jwsbb.Verify(pub, t.alg, input, t.sig) == nil
	}
}
