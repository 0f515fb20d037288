package sim

import (
	"net/http"
	"slices"
	"strings"
)

// Route is one route of a simulator: a method and a path pattern as
// http.ServeMux reads them ("GET" and "/me" make "GET /me").
type Route struct {
	Method, Path string
	Handler      http.HandlerFunc
}

// Skeleton is what every simulator's router shares: its own routes, the
// admin routes (GET /admin/stats, GET, PUT and POST /admin/fault), and the
// answers to a known path asked with another method and to an unknown path.
type Skeleton struct {
	// Routes are the provider's routes.
	Routes []Route
	// Stats returns the simulator's counters for GET /admin/stats.
	Stats func() any
	// Faults serves /admin/fault.
	Faults *Faults
	// WrongMethod answers a known path asked with another method; allow
	// lists the path's methods ("GET, POST"). nil: MethodNotAllowed.
	WrongMethod func(w http.ResponseWriter, r *http.Request, allow string)
	// NotFound answers any other path.
	NotFound http.HandlerFunc
}

// Mux builds the router: one http.ServeMux with method patterns.
func (k Skeleton) Mux() *http.ServeMux {
	routes := append(slices.Clone(k.Routes),
		Route{http.MethodGet, "/admin/stats", func(w http.ResponseWriter, _ *http.Request) { WriteJSON(w, http.StatusOK, k.Stats()) }},
		Route{http.MethodGet, "/admin/fault", k.Faults.getFault},
		Route{http.MethodPut, "/admin/fault", k.Faults.setFault},
		Route{http.MethodPost, "/admin/fault", k.Faults.setFault},
	)
	wrong := k.WrongMethod
	if wrong == nil {
		wrong = func(w http.ResponseWriter, _ *http.Request, allow string) { MethodNotAllowed(w, allow) }
	}
	mux := http.NewServeMux()
	methods := map[string][]string{}
	var paths []string
	for _, rt := range routes {
		mux.HandleFunc(rt.Method+" "+rt.Path, rt.Handler)
		if _, seen := methods[rt.Path]; !seen {
			paths = append(paths, rt.Path)
		}
		methods[rt.Path] = append(methods[rt.Path], rt.Method)
	}
	for _, p := range paths {
		allow := strings.Join(methods[p], ", ")
		mux.HandleFunc(p, func(w http.ResponseWriter, r *http.Request) { wrong(w, r, allow) })
	}
	mux.HandleFunc("/", k.NotFound)
	return mux
}
