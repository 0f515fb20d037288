package tokenfactory

import (
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
)

// Mutations that break the signature or the algorithm: another signer, flipped bits, alg none, HMAC with the public key, other algorithms.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// SignedBy signs the token with another key (header unchanged, jpk still
// naming the real signer's key unless the factory has jpk off).
func SignedBy(key *rsa.PrivateKey) Mutation {
	m := editDraft("signed-by-other-key", "Signed RS256 by a key the AZ never used.", func(dr *Draft, _ Env) {
		dr.Sign = signRS256By(key)
	})
	m.WithKey = SignedBy
	return m
}

// FlipBit flips one bit of a segment after signing. In the header and the
// payload it flips the lowest bit of the last letter of the last JSON string
// value (so the JSON stays valid and only the signature check can catch it);
// in the signature it flips the lowest bit of the last byte.
func FlipBit(seg Segment) Mutation {
	return editSegments("flip-bit/"+seg.String(), fmt.Sprintf("One bit of the %s is flipped after signing.", seg), func(parts []string) error {
		raw, err := B64.DecodeString(parts[seg])
		if err != nil || len(raw) == 0 {
			return fmt.Errorf("segment %s is not decodable", seg)
		}
		i := len(raw) - 1
		if seg != SegSignature {
			if i = lastValueLetter(raw); i < 0 {
				return fmt.Errorf("no string value with a letter in the %s", seg)
			}
		}
		raw[i] ^= 1
		parts[seg] = B64.EncodeToString(raw)
		return nil
	})
}

// lastValueLetter returns the index of the last ASCII letter inside a JSON
// string that is an object value (preceded by ':'), or -1.
func lastValueLetter(doc []byte) int {
	last, inStr, isValue, esc := -1, false, false, false
	prev := byte(0) // previous significant byte outside strings
	for i, c := range doc {
		switch {
		case inStr && esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case inStr && c == '"':
			inStr = false
			prev = '"'
		case inStr:
			if isValue && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
				last = i
			}
		case c == '"':
			inStr, isValue = true, prev == ':'
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			prev = c
		}
	}
	return last
}

// SignatureStripped removes the signature, keeping the trailing dot.
func SignatureStripped() Mutation {
	return Mutation{
		Name: "signature-stripped",
		Doc:  "The signature segment is empty (header.payload.).",
		After: func(tok string, _ Env) (string, error) {
			return tok[:strings.LastIndexByte(tok, '.')+1], nil
		},
	}
}

// AlgNoneSpellings lists the spellings of "none" tried by AlgNone (a new
// slice on each call).
func AlgNoneSpellings() []string { return []string{"none", "None", "NONE", "nOnE"} }

// AlgNone rewrites a signed token's header to alg spelling (a spelling of
// "none") the way an attacker would: the payload is kept, and the signature
// is either dropped (keepSig false) or the original RS256 signature, now over
// a different header (keepSig true).
func AlgNone(spelling string, keepSig bool) Mutation {
	variant := "empty-sig"
	if keepSig {
		variant = "original-sig"
	}
	return Mutation{
		Name: "alg-none/" + spelling + "/" + variant,
		Doc:  fmt.Sprintf("Header alg is %q, signature %s.", spelling, map[bool]string{true: "kept from the RS256 original", false: "empty"}[keepSig]),
		After: func(tok string, _ Env) (string, error) {
			return rewriteHeader(tok, keepSig, func(h map[string]any) { h["alg"] = spelling })
		},
	}
}

// rewriteHeader edits a finished token's header, keeping the payload and
// (if keepSig) the old signature.
func rewriteHeader(tok string, keepSig bool, edit func(map[string]any)) (string, error) {
	parts, err := threeSegments(tok)
	if err != nil {
		return "", err
	}
	raw, err := B64.DecodeString(parts[0])
	if err != nil {
		return "", err
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		return "", err
	}
	edit(h)
	nh, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	parts[0] = B64.EncodeToString(nh)
	if !keepSig {
		parts[2] = ""
	}
	return strings.Join(parts, "."), nil
}

// HS256WithPublicKey signs HS256 with the signer's public key, rendered in
// form, as the HMAC secret: the classic algorithm-confusion attack against
// validators that pass the alg from the token to a generic verify call.
func HS256WithPublicKey(form KeyForm) Mutation {
	return Mutation{
		Name: "hs256-public-key/" + string(form),
		Doc:  fmt.Sprintf("alg HS256, HMAC keyed with the AZ public key as %s.", form),
		Before: func(dr *Draft, e Env) error {
			secret, err := KeyBytes(&e.Key.PublicKey, form)
			if err != nil {
				return err
			}
			dr.Header["alg"] = "HS256"
			dr.Sign = func(in []byte, _ Env) ([]byte, error) { return hmacSHA256(secret, in), nil }
			return nil
		},
	}
}

// HS256EmptySecret signs HS256 with an empty secret.
func HS256EmptySecret() Mutation {
	return signedAs("hs256-empty-secret", "alg HS256, HMAC keyed with the empty string.", "HS256",
		func(in []byte, _ Env) ([]byte, error) { return hmacSHA256(nil, in), nil })
}

func hmacSHA256(key, in []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(in)
	return m.Sum(nil)
}

// AlgSameKey signs with the AZ's own key under another RSA algorithm
// (RS384, RS512, PS256, ...): a valid signature, but only RS256 is issued.
func AlgSameKey(alg string) Mutation {
	return signedAs("alg-same-key/"+alg, fmt.Sprintf("Signed by the AZ key, but with alg %s instead of RS256.", alg), alg,
		func(in []byte, e Env) ([]byte, error) { return jwsbb.Sign(e.Key, alg, in, e.Rand) })
}

// PsychicES256 claims ES256 with the all-zero signature r = s = 0
// (CVE-2022-21449: Java's ECDSA accepted it for any message and key).
func PsychicES256() Mutation {
	return signedAs("psychic-es256", "alg ES256 with the signature r = s = 0 (64 zero bytes).", "ES256",
		func([]byte, Env) ([]byte, error) { return make([]byte, 64), nil })
}
