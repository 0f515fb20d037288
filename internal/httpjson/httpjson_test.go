package httpjson_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/mcaspec/mcaspec/internal/httpjson"
)

func TestWrite(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		v          any
		status     int
		wantStatus int
		wantBody   string
	}{
		{"object", map[string]string{"a": "b"}, http.StatusCreated, http.StatusCreated, `{"a":"b"}` + "\n"},
		{"unencodable", map[string]any{"f": func() {}}, http.StatusOK, http.StatusInternalServerError,
			`{"error":"server_error","error_description":"encoding the response failed"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec := httptest.NewRecorder()
			rec.Header().Set("Cache-Control", "no-store")
			httpjson.Write(rec, tc.status, tc.v)
			if rec.Code != tc.wantStatus || rec.Body.String() != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.wantStatus, tc.wantBody)
			}
			if ct, cc := rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
				t.Errorf("Content-Type %q, Cache-Control %q", ct, cc)
			}
		})
	}
}
