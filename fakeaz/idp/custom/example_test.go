package custom_test

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mcaspec/mcaspec/fakeaz/idp/custom"
)

func Example() {
	s, err := custom.New(custom.DefaultConfig())
	if err != nil {
		panic(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	c := &custom.Client{BaseURL: s.URL()}
	r, _ := c.StartAuthorization(ctx, "my-app", custom.DefaultRealm, nil)
	fmt.Println(r.Status, string(r.Challenge))

	// bob has a PIN: the password step answers with a second challenge and a stateId.
	r, _ = c.HandleChallengeAnswer(ctx, "my-app", custom.DefaultRealm, nil, "", json.RawMessage(`{"username":"bob","password":"bob123"}`))
	fmt.Println(r.Status, string(r.Challenge))
	r, _ = c.HandleChallengeAnswer(ctx, "my-app", custom.DefaultRealm, nil, r.StateID, json.RawMessage(`{"pin":"4321"}`))
	fmt.Println(r.Status, r.UserIdentity.UserName, r.UserIdentity.DisplayName)
	// Output:
	// challenge {"message":"Enter username and password"}
	// challenge {"message":"Enter your PIN"}
	// success bob Bob Example
}
