package tokenfactory

import (
	"fmt"
	"time"
)

// Mutations that break the time claims: exp, nbf and iat.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// ExpiredBy sets exp to now - d (iat is left as minted).
func ExpiredBy(d time.Duration) Mutation {
	return Mutation{
		Name: "expired-by/" + d.String(),
		Doc:  fmt.Sprintf("exp is %s in the past.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["exp"] = e.Now.Add(-d).Unix()
			return nil
		},
	}
}

// ExpiresIn sets exp to now + d; ExpiresIn(0) is the boundary case exp == now.
func ExpiresIn(d time.Duration) Mutation {
	return Mutation{
		Name: "expires-in/" + d.String(),
		Doc:  fmt.Sprintf("exp is now + %s (0s: exactly now, which is already expired).", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["exp"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}

// NotYetValid sets nbf to now + d.
func NotYetValid(d time.Duration) Mutation {
	return Mutation{
		Name: "nbf-in/" + d.String(),
		Doc:  fmt.Sprintf("nbf is %s in the future.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["nbf"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}

// IssuedIn sets iat to now + d (d > 0: issued in the future).
func IssuedIn(d time.Duration) Mutation {
	return Mutation{
		Name: "iat-in/" + d.String(),
		Doc:  fmt.Sprintf("iat is now + %s.", d),
		Before: func(dr *Draft, e Env) error {
			dr.Claims["iat"] = e.Now.Add(d).Unix()
			return nil
		},
	}
}
