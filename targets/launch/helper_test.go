package launch_test

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"testing"
)

// TestHelperTarget is not a test: launched with LAUNCH_HELPER=serve it is a
// minimal target serving /healthz on $HOST:$PORT.
func TestHelperTarget(t *testing.T) {
	if os.Getenv("LAUNCH_HELPER") != "serve" {
		t.Skip("only runs as a launched helper process")
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(200) })
	fmt.Println("helper target listening")
	_ = http.ListenAndServe(net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")), nil)
}
