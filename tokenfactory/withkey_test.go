package tokenfactory_test

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

// TestAttackerMutationsRebind: the attacker-signed mutations carry WithKey,
// which gives the same mutation signed by the key it is given; the others
// do not.
func TestAttackerMutationsRebind(t *testing.T) {
	t.Parallel()
	f, err := tokenfactory.New(testKey(t), tokenfactory.WithIssuer("http://az/imf-authserver/authorization/"))
	if err != nil {
		t.Fatal(err)
	}
	attacker := otherKey(t)
	for _, m := range []tokenfactory.Mutation{tokenfactory.SignedBy(nil), tokenfactory.EmbeddedKey(tokenfactory.EmbedJPK, nil), tokenfactory.EmbeddedKey(tokenfactory.EmbedX5C, nil)} {
		if m.WithKey == nil {
			t.Fatalf("%s has no WithKey", m.Name)
		}
		bound := m.WithKey(attacker)
		if bound.Name != m.Name {
			t.Errorf("rebound %s is named %s", m.Name, bound.Name)
		}
		tok, err := f.AccessToken(tokenfactory.Access{AppID: "a", ClientID: "c"}, bound)
		if err != nil {
			t.Fatalf("%s: %v", m.Name, err)
		}
		parts := strings.Split(tok, ".")
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(&attacker.PublicKey, crypto.SHA256, sum[:], sig); err != nil {
			t.Errorf("%s rebound: not signed by the attacker's key: %v", m.Name, err)
		}
	}
	if tokenfactory.FlipBit(tokenfactory.SegSignature).WithKey != nil {
		t.Error("flip-bit has a WithKey")
	}
}
