package fakedevice_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/fakedevice"
)

func Example() {
	az, err := fakeaz.New()
	if err != nil {
		panic(err)
	}
	if err := az.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer az.Close()
	app, err := az.AddApp(fakeaz.App{BundleID: "com.example.app"})
	if err != nil {
		panic(err)
	}

	d, err := fakedevice.New(fakedevice.Config{
		ServerURL: az.URL(), AppID: app.ID, BundleID: "com.example.app",
		Platform: fakedevice.PlatformAndroid,
		KeyBits:  fakedevice.LegacyKeyBits, // as the real SDKs; needs godebug rsa1024min=0
		// Quirks nil: the Android SDK's wire encodings and behaviour.
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	if err := d.Login(ctx); err != nil { // register + authorize + redeem the code
		panic(err)
	}
	claims, err := d.IDTokenClaims()
	if err != nil {
		panic(err)
	}
	fmt.Println(claims.Sub == "::"+d.ClientID(), claims.Device.Model)
	fmt.Println(strings.Count(d.AuthorizationHeader(), " ")) // "Bearer <access> <id>"
	// Output:
	// true Android SDK built for x86_64
	// 2
}

func ExampleRunFleet() {
	az, err := fakeaz.New()
	if err != nil {
		panic(err)
	}
	if err := az.Start("127.0.0.1:0"); err != nil {
		panic(err)
	}
	defer az.Close()
	app, _ := az.AddApp(fakeaz.App{BundleID: "com.example.app"})

	res, err := fakedevice.RunFleet(context.Background(), fakedevice.FleetConfig{
		N: 20, Concurrency: 4,
		NewConfig: func(i int) fakedevice.Config {
			return fakedevice.Config{ServerURL: az.URL(), AppID: app.ID, BundleID: "com.example.app", KeyBits: 512}
		},
	})
	fmt.Println(err, res.Succeeded, res.Failed, res.Requests)
	// Output: <nil> 20 0 60
}
