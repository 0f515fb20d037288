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
	return timeClaim("exp", -d, "expired-by/"+d.String(), fmt.Sprintf("exp is %s in the past.", d))
}

// ExpiresIn sets exp to now + d; ExpiresIn(0) is the boundary case exp == now.
func ExpiresIn(d time.Duration) Mutation {
	return timeClaim("exp", d, "expires-in/"+d.String(), fmt.Sprintf("exp is now + %s (0s: exactly now, which is already expired).", d))
}

// NotYetValid sets nbf to now + d.
func NotYetValid(d time.Duration) Mutation {
	return timeClaim("nbf", d, "nbf-in/"+d.String(), fmt.Sprintf("nbf is %s in the future.", d))
}

// IssuedIn sets iat to now + d (d > 0: issued in the future).
func IssuedIn(d time.Duration) Mutation {
	return timeClaim("iat", d, "iat-in/"+d.String(), fmt.Sprintf("iat is now + %s.", d))
}

// timeClaim sets the NumericDate claim to now + d.
func timeClaim(claim string, d time.Duration, name, doc string) Mutation {
	return editDraft(name, doc, func(dr *Draft, e Env) { dr.Claims[claim] = e.Now.Add(d).Unix() })
}
