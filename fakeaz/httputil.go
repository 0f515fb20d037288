package fakeaz

import (
	"encoding/json"
	"net/http"
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"encoding the response failed"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeErr writes {"error": code, "error_description": desc} and records code
// as the request's outcome.
func writeErr(w http.ResponseWriter, status int, code, desc string) {
	setOutcome(w, code)
	writeJSON(w, status, errorBody{code, desc})
}
