package tokenfactory_test

import (
	"crypto/rsa"
	"os"
	"sync"
	"testing"

	"github.com/mcaspec/mcaspec/tokenfactory"
)

var (
	keyOnce  sync.Once
	keys     [2]*rsa.PrivateKey
	keyError error
)

// testKey returns a shared 2048-bit key (generating one per test is slow).
func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		for i := range keys {
			if keys[i], keyError = tokenfactory.GenerateKey(2048, nil); keyError != nil {
				return
			}
		}
	})
	if keyError != nil {
		t.Fatal(keyError)
	}
	return keys[0]
}

// otherKey returns a second shared key.
func otherKey(t testing.TB) *rsa.PrivateKey {
	testKey(t)
	return keys[1]
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
