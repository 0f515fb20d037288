package tokenfactory

import (
	"crypto/rsa"
	"fmt"
	"sort"
	"time"
)

// Params are what the parameterised mutations of All need.
type Params struct {
	// Attacker is a key the AZ never used (required).
	Attacker *rsa.PrivateKey
	// AttackerURL is where the attacker serves its key, for jku/x5u
	// (default "http://127.0.0.1:9/attacker-jwks", a port nothing listens on).
	AttackerURL string
	// OtherAppID is a wrong audience (default a fixed GUID).
	OtherAppID string
	// OtherIssuer is a wrong issuer (default "https://attacker.invalid/imf-authserver").
	OtherIssuer string
}

// Literals and key ids of the catalogue's cases.
const (
	// ExpExponentLiteral is exp in exponent notation: 1 700 000 000, in November 2023.
	ExpExponentLiteral = "1.7e9"
	// ExpBeyondInt64Literal is exp = 2^63, one past the largest int64.
	ExpBeyondInt64Literal = "9223372036854775808"
	// KeyIDParentPath and KeyIDDevNull are kids shaped like paths.
	KeyIDParentPath = "../../publickey"
	KeyIDDevNull    = "/dev/null"
)

// DefaultOtherAppID is the wrong audience All uses by default.
const DefaultOtherAppID = "00000000-0000-4000-8000-0000000000ff"

// All returns every named mutation with representative parameters, sorted
// by name. Names are unique. The conformance catalogue uses the
// constructors directly; All is for listings, docs and the CLI.
func All(p Params) ([]Mutation, error) {
	if p.Attacker == nil {
		return nil, fmt.Errorf("tokenfactory: All needs Params.Attacker")
	}
	if p.AttackerURL == "" {
		p.AttackerURL = "http://127.0.0.1:9/attacker-jwks"
	}
	if p.OtherAppID == "" {
		p.OtherAppID = DefaultOtherAppID
	}
	if p.OtherIssuer == "" {
		p.OtherIssuer = "https://attacker.invalid/imf-authserver"
	}
	ms := []Mutation{
		ExpiredBy(time.Hour), ExpiredBy(365 * 24 * time.Hour), ExpiresIn(0),
		NotYetValid(time.Hour), IssuedIn(time.Hour),
		NoExp(), NoAud(), NoIss(), WithoutClaim("prn"),
		WrongAud(p.OtherAppID), AudArray(), WrongIss(p.OtherIssuer),
		RetypeClaim("exp", TypeString), RetypeClaim("aud", TypeNumber), RetypeClaim("iat", TypeString), RetypeClaim("nbf", TypeString),
		SignedBy(p.Attacker), SignatureStripped(),
		FlipBit(SegHeader), FlipBit(SegPayload), FlipBit(SegSignature),
		HS256EmptySecret(), AlgSameKey("RS512"), AlgSameKey("PS256"), AlgSameKey("RS384"),
		EmbeddedKey(EmbedJPK, p.Attacker), EmbeddedKey(EmbedJWK, p.Attacker), EmbeddedKey(EmbedX5C, p.Attacker),
		KeyURL(URLJKU, p.AttackerURL, p.Attacker), KeyURL(URLX5U, p.AttackerURL, p.Attacker),
		PsychicES256(),
		SegmentCount(1), SegmentCount(2), SegmentCount(4), SegmentCount(5),
		EmptySegment(SegHeader), EmptySegment(SegPayload), EmptySegment(SegSignature),
		ForeignChar('+'), ForeignChar('/'), ForeignChar('~'),
		Padded(), StdAlphabet(),
		DuplicateClaim("aud", p.OtherAppID, true), DuplicateClaim("aud", p.OtherAppID, false),
		DuplicateClaim("exp", 1, true), DuplicateClaim("exp", 1, false),
		Oversized(64 << 10), ManyClaims(100_000), DeepNesting(100_000),
		CritUnknown(), B64False(true), B64False(false), ZipHeader(),
		ClaimLiteral("exp", ExpExponentLiteral), ExpFloat(-time.Hour), ClaimLiteral("exp", ExpBeyondInt64Literal),
		JSONFraming(FramingTrailing), JSONFraming(FramingBOM),
		SignedWithExponentOne(),
		// KeyID is left out: a kid names nothing in an MCA token (the app's
		// one key is used), so it breaks only App ID tokens.
	}
	for _, k := range AudNearMisses() {
		ms = append(ms, AudNearMiss(k))
	}
	for _, s := range AlgNoneSpellings() {
		ms = append(ms, AlgNone(s, false), AlgNone(s, true))
	}
	for _, f := range KeyForms() {
		ms = append(ms, HS256WithPublicKey(f))
	}
	for _, seg := range []Segment{SegHeader, SegPayload} {
		for _, k := range NotJSONKinds() {
			ms = append(ms, NotJSONObject(seg, k))
		}
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Name < ms[j].Name })
	for i := 1; i < len(ms); i++ {
		if ms[i].Name == ms[i-1].Name {
			return nil, fmt.Errorf("tokenfactory: duplicate mutation name %q", ms[i].Name)
		}
	}
	return ms, nil
}

// Find returns the mutation named name from ms.
func Find(ms []Mutation, name string) (Mutation, bool) {
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Name >= name })
	if i < len(ms) && ms[i].Name == name {
		return ms[i], true
	}
	return Mutation{}, false
}
