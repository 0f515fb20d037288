package tokenfactory

// Mutations that add JOSE header parameters a JWS validator must understand or refuse.
// Each constructor returns a Mutation whose Name is stable (the catalogue
// and the docs print it) and whose Doc says what it does in one sentence.

// UnknownCritExtension is the extension CritUnknown names.
const UnknownCritExtension = "urn:mcaspec:unknown-extension"

// CritUnknown adds "crit": [UnknownCritExtension] and that parameter to the
// header, validly signed: a recipient that does not understand a listed
// extension MUST reject the JWS (RFC 7515 §4.1.11).
func CritUnknown() Mutation {
	return editDraft("crit/unknown-extension",
		`The header lists an unknown extension in "crit" (and carries it); the signature is valid.`,
		func(dr *Draft, _ Env) {
			dr.Header["crit"] = []any{UnknownCritExtension}
			dr.Header[UnknownCritExtension] = true
		})
}

// B64False sets the RFC 7797 header "b64": false, listed in "crit" when
// inCrit. The payload segment and the signature are those of an ordinary
// token (the signing input is the same bytes either way), so a validator
// that ignores b64 reads the claims while one that honours it reads the
// base64url text as the payload, which is not JSON.
func B64False(inCrit bool) Mutation {
	name, doc := "b64-false/no-crit", `The header has "b64": false without "crit" (RFC 7797 §6 requires it there).`
	if inCrit {
		name, doc = "b64-false/crit", `The header has "b64": false listed in "crit", as RFC 7797 §6 requires.`
	}
	return editDraft(name, doc, func(dr *Draft, _ Env) {
		dr.Header["b64"] = false
		if inCrit {
			dr.Header["crit"] = []any{"b64"}
		}
	})
}

// ZipHeader adds "zip": "DEF" to a JWS header: a JWE parameter (RFC 7516
// §4.1.3) that a JWS never carries. The payload is not compressed.
func ZipHeader() Mutation {
	return editDraft("zip/DEF",
		`The JWS header carries "zip": "DEF", a JWE-only parameter; the payload is plain JSON and validly signed.`,
		func(dr *Draft, _ Env) { dr.Header["zip"] = "DEF" })
}
