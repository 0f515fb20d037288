package sim

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestSkeleton(t *testing.T) {
	t.Parallel()
	var faults Faults
	mux := Skeleton{
		Routes: []Route{
			{http.MethodGet, "/me", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, http.StatusOK, "me") }},
			{http.MethodPost, "/me", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, http.StatusCreated, "made") }},
			{http.MethodPost, "/items/{id}", func(w http.ResponseWriter, r *http.Request) { WriteJSON(w, http.StatusOK, r.PathValue("id")) }},
		},
		Stats:    func() any { return map[string]int{"n": 1} },
		Faults:   &faults,
		NotFound: func(w http.ResponseWriter, _ *http.Request) { NotFound(w, "nothing here") },
	}.Mux()
	for _, tc := range []struct {
		method, path, body string
		status             int
		allow, contains    string
	}{
		{"GET", "/me", "", 200, "", `"me"`},
		{"POST", "/me", "", 201, "", `"made"`},
		{"DELETE", "/me", "", 405, "GET, POST", "allowed methods: GET, POST"},
		{"POST", "/items/7", "", 200, "", `"7"`},
		{"GET", "/items/7", "", 405, "POST", "method_not_allowed"},
		{"GET", "/nowhere", "", 404, "", "nothing here"},
		{"GET", "/admin/stats", "", 200, "", `{"n":1}`},
		{"POST", "/admin/stats", "", 405, "GET", "method_not_allowed"},
		{"PUT", "/admin/fault", `{"status":503}`, 200, "", `"status":503`},
		{"GET", "/admin/fault", "", 200, "", `"status":503`},
		{"DELETE", "/admin/fault", "", 405, "GET, PUT, POST", "method_not_allowed"},
	} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body)))
		if rec.Code != tc.status || rec.Header().Get("Allow") != tc.allow || !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s %s: %d Allow %q %s; want %d Allow %q containing %s", tc.method, tc.path, rec.Code, rec.Header().Get("Allow"), rec.Body, tc.status, tc.allow, tc.contains)
		}
	}
}
