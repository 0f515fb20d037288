package fakeaz

import (
	"net/http"

	"github.com/mcaspec/mcaspec/internal/httpjson"
)

// errorBody is the JSON body of every error response.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// writeJSON answers v as JSON; nothing the AZ answers may be cached.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Cache-Control", "no-store")
	httpjson.Write(w, status, v)
}

// writeErr writes {"error": code, "error_description": desc} and records code
// as the request's outcome.
func writeErr(w http.ResponseWriter, status int, code, desc string) {
	setOutcome(w, code)
	writeJSON(w, status, errorBody{code, desc})
}
