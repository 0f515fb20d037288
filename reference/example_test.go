package reference_test

import (
	"fmt"
	"log"
	"net/http"

	"github.com/mcaspec/mcaspec/reference"
)

func ExampleParseHeader() {
	access, id, err := reference.ParseHeader("bearer  eyJ.a.b\teyJ.c.d")
	fmt.Printf("%q %q %v\n", access, id, err)
	_, _, err = reference.ParseHeader(`Bearer {"realm": 1}`)
	fmt.Println(err)
	// Output:
	// "eyJ.a.b" "eyJ.c.d" <nil>
	// reference: invalid_request: token contains characters outside the RFC 6750 b64token set
}

func ExampleValidator_Middleware() {
	v, err := reference.New(reference.Config{ServerURL: "http://127.0.0.1:8080/imf-authserver"})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /v1/apps/{appId}/hello", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc, _ := reference.FromContext(r.Context())
		fmt.Fprintf(w, "hello %s\n", sc.Sub)
	})))
	_ = http.ListenAndServe // serve mux on 127.0.0.1 as usual
}
