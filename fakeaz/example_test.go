package fakeaz_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

func Example() {
	s, err := fakeaz.New() // keys come from a background pool; tests inject them with WithKeyGen
	if err != nil {
		panic(err)
	}
	if err := s.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer s.Close()
	app, err := s.AddApp(fakeaz.App{BundleID: "com.example.app"})
	if err != nil {
		panic(err)
	}

	// Mint a token the app's validator must accept.
	f, _ := s.Factory(app.ID)
	tok, _ := f.AccessToken(tokenfactory.Access{AppID: app.ID, ClientID: "device-1"})
	fmt.Println(tok != "", f.Issuer() == tokenfactory.MCAIssuer(s.URL()))

	// Make the key endpoint fail for the next 30 s, then count the fetches.
	_ = s.SetFault(fakeaz.FaultSpec{Endpoint: fakeaz.EndpointPublicKey, Status: 500, For: 30 * time.Second})
	resp, err := http.Get(s.AppURL(app.ID) + "/publickey")
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode, s.Stats().Count(fakeaz.EndpointPublicKey, app.ID))
	// Output:
	// true true
	// 500 1
}
