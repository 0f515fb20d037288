package tokenfactory

import (
	"errors"
	"fmt"
	"strings"
)

// Mutations that break the presence, value or JSON type of a claim, the audience among them.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// WithoutClaim deletes a claim.
func WithoutClaim(name string) Mutation {
	return editDraft("no-"+name, fmt.Sprintf("The %s claim is absent.", name), func(dr *Draft, _ Env) {
		delete(dr.Claims, name)
	})
}

// NoExp deletes exp: a token that never dies.
func NoExp() Mutation { return WithoutClaim("exp") }

// NoAud deletes aud.
func NoAud() Mutation { return WithoutClaim("aud") }

// NoIss deletes iss.
func NoIss() Mutation { return WithoutClaim("iss") }

// WithClaim sets a claim to any JSON value.
func WithClaim(name string, value any) Mutation {
	return editDraft("claim/"+name, fmt.Sprintf("The %s claim is set to %v.", name, value), func(dr *Draft, _ Env) {
		dr.Claims[name] = value
	})
}

// WrongAud sets aud to another app id.
func WrongAud(aud string) Mutation {
	m := WithClaim("aud", aud)
	m.Name, m.Doc = "aud/wrong", fmt.Sprintf("aud is another app id (%s).", aud)
	return m
}

// WrongIss sets iss to another issuer.
func WrongIss(iss string) Mutation {
	m := WithClaim("iss", iss)
	m.Name, m.Doc = "iss/wrong", fmt.Sprintf("iss is another issuer (%s).", iss)
	return m
}

// AudNearMissKind names a near miss of the audience, derived from the
// token's own aud (see AudNearMiss).
type AudNearMissKind string

// Near misses of the audience.
const (
	AudPrefix        AudNearMissKind = "prefix"         // aud without its last character
	AudSuffix        AudNearMissKind = "suffix"         // aud with one character appended
	AudUpperCase     AudNearMissKind = "upper-case"     // aud in upper case
	AudTrailingSpace AudNearMissKind = "trailing-space" // aud + " "
	AudLeadingSpace  AudNearMissKind = "leading-space"  // " " + aud
)

// AudNearMisses lists the kinds of AudNearMiss (a new slice on each call).
func AudNearMisses() []AudNearMissKind {
	return []AudNearMissKind{AudPrefix, AudSuffix, AudUpperCase, AudTrailingSpace, AudLeadingSpace}
}

// AudNearMiss changes aud into a near miss of itself (see AudNearMisses).
func AudNearMiss(kind AudNearMissKind) Mutation {
	return Mutation{
		Name: "aud/near-miss/" + string(kind),
		Doc:  fmt.Sprintf("aud is the right app id altered slightly (%s).", kind),
		Before: func(dr *Draft, _ Env) error {
			aud, ok := dr.Claims["aud"].(string)
			if !ok || aud == "" {
				return errors.New("aud is not a non-empty string")
			}
			switch kind {
			case AudPrefix:
				aud = aud[:len(aud)-1]
			case AudSuffix:
				aud += "0"
			case AudUpperCase:
				if up := strings.ToUpper(aud); up != aud {
					aud = up
				} else {
					aud = strings.ToLower(aud)
				}
			case AudTrailingSpace:
				aud += " "
			case AudLeadingSpace:
				aud = " " + aud
			default:
				return fmt.Errorf("unknown near-miss kind %q", kind)
			}
			dr.Claims["aud"] = aud
			return nil
		},
	}
}

// AudArray turns aud into an array: the original aud followed by extra.
func AudArray(extra ...string) Mutation {
	return editDraft("aud/array", "aud is a JSON array holding the right app id (plus any extra entries).", func(dr *Draft, _ Env) {
		arr := []any{dr.Claims["aud"]}
		for _, x := range extra {
			arr = append(arr, x)
		}
		dr.Claims["aud"] = arr
	})
}

// JSONType is a JSON type a claim can be retyped to (see RetypeClaim).
type JSONType string

// JSON types.
const (
	TypeString JSONType = "string"
	TypeNumber JSONType = "number"
	TypeBool   JSONType = "bool"
	TypeNull   JSONType = "null"
	TypeArray  JSONType = "array"
	TypeObject JSONType = "object"
)

// RetypeClaim gives a claim a value of the wrong JSON type that still carries
// the original value where possible: exp 1700000000 becomes "1700000000" as
// a string, aud "x" becomes a number, and so on.
func RetypeClaim(name string, to JSONType) Mutation {
	return Mutation{
		Name: "retype/" + name + "/" + string(to),
		Doc:  fmt.Sprintf("The %s claim is a JSON %s.", name, to),
		Before: func(dr *Draft, _ Env) error {
			v := dr.Claims[name]
			switch to {
			case TypeString:
				dr.Claims[name] = fmt.Sprint(v)
			case TypeNumber:
				dr.Claims[name] = 12345
			case TypeBool:
				dr.Claims[name] = true
			case TypeNull:
				dr.Claims[name] = nil
			case TypeArray:
				dr.Claims[name] = []any{v}
			case TypeObject:
				dr.Claims[name] = map[string]any{"value": v}
			default:
				return fmt.Errorf("unknown JSON type %q", to)
			}
			return nil
		},
	}
}
