package adminclient_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakeaz/adminclient"
)

func Example() {
	// A fakeaz whose admin API needs a token (required off loopback).
	s, err := fakeaz.New(fakeaz.WithAdminToken("s3cret"))
	if err != nil {
		panic(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()

	ctx := context.Background()
	_, err = adminclient.New(s.AdminURL(), "", nil).Stats(ctx)
	var ae *adminclient.AdminError
	if errors.As(err, &ae) {
		fmt.Println("without the token:", ae.Status)
	}
	c := adminclient.New(s.AdminURL(), "s3cret", nil)
	app, err := c.AddApp(ctx, fakeaz.App{BundleID: "com.example.app"})
	if err != nil {
		panic(err)
	}
	tok, err := c.MintToken(ctx, app.ID, adminclient.TokenRequest{ClientID: "device-1"})
	fmt.Println(err, tok.TokenType)
	// Output:
	// without the token: 401
	// <nil> Bearer
}
