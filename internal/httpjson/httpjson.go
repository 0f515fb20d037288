// Package httpjson writes JSON responses: the one JSON writer of the
// module's servers (fakeaz, the reference target, the web RP, the bench
// baseline).
package httpjson

import (
	"encoding/json"
	"net/http"
)

// encodingFailed is the body when v cannot be encoded.
const encodingFailed = `{"error":"server_error","error_description":"encoding the response failed"}`

// Write sends v as JSON with status and Content-Type application/json,
// followed by a newline. Headers set on w before the call (Cache-Control,
// WWW-Authenticate) are kept. If v cannot be encoded the answer is a 500
// with an OAuth-style server_error body instead, never a half-written one.
func Write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(encodingFailed)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
