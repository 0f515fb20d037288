package google_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/google"
)

func Example() {
	g, err := google.New() // generates a 2048-bit key; tests should pass WithKey
	if err != nil {
		panic(err)
	}
	if err := g.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer g.Close()

	const clientID = "123-abc.apps.googleusercontent.com"
	alice := google.User{Sub: "1101", Email: "alice@gmail.com", Name: "Alice"}
	idToken, _ := g.IssueIDToken(clientID, alice, time.Hour)

	id, err := google.Verify(context.Background(), nil, g.TokenInfoURL(), clientID, idToken, google.IDToken)
	fmt.Println(id.UserName, id.DisplayName, id.Attributes["email"], err)

	// The same token presented to another app is refused.
	_, err = google.Verify(context.Background(), nil, g.TokenInfoURL(), "other-client", idToken, google.IDToken)
	fmt.Println(errors.Is(err, idp.ErrInvalidToken))
	// Output:
	// 1101 Alice alice@gmail.com <nil>
	// true
}
