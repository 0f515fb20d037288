package facebook_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz/idp"
	"github.com/mcaspec/mcaspec/fakeaz/idp/facebook"
)

func Example() {
	fb := facebook.New(facebook.WithApp("1234", "app-secret"))
	if err := fb.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer fb.Close()

	// A simulated device logs in with Facebook and gets a user token...
	tok := fb.IssueToken("1234", facebook.User{ID: "10001", Name: "Alice", Email: "alice@example.com"}, time.Hour)
	// ...which the AZ checks against the Graph API.
	id, err := facebook.Verify(context.Background(), nil, fb.URL(), "1234", "app-secret", tok)
	fmt.Println(id.UserName, id.DisplayName, id.Attributes["email"], err)

	fb.Revoke(tok)
	_, err = facebook.Verify(context.Background(), nil, fb.URL(), "1234", "app-secret", tok)
	fmt.Println(errors.Is(err, idp.ErrInvalidToken))
	// Output:
	// 10001 Alice alice@example.com <nil>
	// true
}
