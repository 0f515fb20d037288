package reference_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mcaspec/mcaspec/reference"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const (
	challengeBare    = `Bearer realm="imfAuthentication"`
	challengeRequest = `Bearer realm="imfAuthentication", error="invalid_request"`
	challengeToken   = `Bearer realm="imfAuthentication", error="invalid_token"`
)

func checkResponse(t *testing.T, rec *httptest.ResponseRecorder, ran bool, status int, challenge string) {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("status %d, want %d; body %s", rec.Code, status, rec.Body)
	}
	if ran != (status == http.StatusOK) {
		t.Fatalf("protected handler ran=%v with status %d", ran, status)
	}
	if got := rec.Header().Get("WWW-Authenticate"); got != challenge {
		t.Fatalf("WWW-Authenticate %q, want %q", got, challenge)
	}
	if status != http.StatusOK {
		var body struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body.Error == "" || body.Description == "" {
			t.Fatalf("error body %q is not {error, error_description}: %v", rec.Body, err)
		}
	}
}

func TestHeaderSyntax(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	at := f.access(t, f.fa, appA, "client-1")
	it := f.id(t, f.fa, appA, "client-1")
	tests := []struct {
		name      string
		headers   []string
		query     string
		status    int
		challenge string
	}{
		{"no header", nil, "", 401, challengeBare},
		{"empty header", []string{""}, "", 401, challengeBare},
		{"basic scheme", []string{"Basic dXNlcjpwYXNz"}, "", 401, challengeBare},
		{"token scheme", []string{"Token " + at}, "", 401, challengeBare},
		{"mac scheme", []string{"MAC " + at}, "", 401, challengeBare},
		{"bearer without token", []string{"Bearer"}, "", 400, challengeRequest},
		{"bearer and spaces", []string{"Bearer   "}, "", 400, challengeRequest},
		{"three tokens", []string{"Bearer " + at + " " + it + " " + it}, "", 400, challengeRequest},
		{"quotes", []string{`Bearer "` + at + `"`}, "", 400, challengeRequest},
		{"json brace", []string{`Bearer {"wl_realm":{}}`}, "", 400, challengeRequest},
		{"comma", []string{"Bearer " + at + ", " + it}, "", 400, challengeRequest},
		{"CR LF", []string{"Bearer " + at + "\r\n" + it}, "", 400, challengeRequest},
		{"non-ASCII", []string{"Bearer " + at + "é"}, "", 400, challengeRequest},
		{"NUL", []string{"Bearer " + at + "\x00"}, "", 400, challengeRequest},
		{"two headers", []string{"Bearer " + at, "Bearer " + at}, "", 400, challengeRequest},
		{"query token too", []string{"Bearer " + at}, "access_token=" + at, 400, challengeRequest},
		{"huge header", []string{"Bearer " + strings.Repeat("a", 64<<10)}, "", 400, challengeRequest},
		{"valid", []string{"Bearer " + at + " " + it}, "", 200, ""},
		{"access only", []string{"Bearer " + at}, "", 200, ""},
		{"lowercase scheme", []string{"bearer " + at + " " + it}, "", 200, ""},
		{"uppercase scheme", []string{"BEARER " + at + " " + it}, "", 200, ""},
		{"tabs and spaces", []string{"Bearer \t  " + at + "\t \t" + it + "  "}, "", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := pathFor(appA)
			if tc.query != "" {
				target += "?" + tc.query
			}
			start := time.Now()
			rec, sc := f.do(t, target, tc.headers...)
			checkResponse(t, rec, sc != nil, tc.status, tc.challenge)
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in         string
		access, id string
		err        error
	}{
		{"Bearer a.b.c", "a.b.c", "", nil},
		{"bEaReR\ta.b.c\t\td.e.f", "a.b.c", "d.e.f", nil},
		{"Bearer a.b.c==", "a.b.c==", "", nil},
		{"Bearer", "", "", reference.ErrInvalidRequest},
		{"Basic x", "", "", reference.ErrNoCredentials},
		{"Bearerx a", "", "", reference.ErrNoCredentials},
		{"", "", "", reference.ErrNoCredentials},
		{"Bearer a b c", "", "", reference.ErrInvalidRequest},
		{"Bearer a\"", "", "", reference.ErrInvalidRequest},
	}
	for _, tc := range tests {
		a, i, err := reference.ParseHeader(tc.in)
		if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) || a != tc.access || i != tc.id {
			t.Errorf("ParseHeader(%q) = %q, %q, %v; want %q, %q, %v", tc.in, a, i, err, tc.access, tc.id, tc.err)
		}
	}
}

func TestSecurityContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	at := f.access(t, f.fa, appA, "client-1")
	it := f.id(t, f.fa, appA, "client-1")

	rec, sc := f.do(t, pathFor(appA), "Bearer "+at+" "+it)
	checkResponse(t, rec, sc != nil, 200, "")
	payload, _ := tokenfactory.B64.DecodeString(strings.Split(it, ".")[1])
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	if sc.Sub != tokenfactory.SubjectFor("client-1", testUser) {
		t.Errorf("imf.sub %q", sc.Sub)
	}
	for name, got := range map[string]json.RawMessage{"imf.user": sc.User, "imf.device": sc.Device, "imf.application": sc.Application} {
		if string(got) != string(claims[name]) {
			t.Errorf("%s = %s, want %s", name, got, claims[name])
		}
	}
	// A second request is a cache hit and must carry an equal, unshared context.
	sc.User[0] = 'X'
	_, sc2 := f.do(t, pathFor(appA), "Bearer "+at+" "+it)
	if sc2 == nil || string(sc2.User) != string(claims["imf.user"]) {
		t.Fatalf("cached context was altered through a previous caller: %s", sc2.User)
	}

	_, sc3 := f.do(t, pathFor(appA), "Bearer "+at)
	out, _ := json.Marshal(sc3)
	if want := `{"imf.sub":"client-1","imf.user":{},"imf.device":{},"imf.application":{}}`; string(out) != want {
		t.Errorf("access-only context %s, want %s", out, want)
	}
}

// TestBrokenTokens runs every named tokenfactory mutation on the access
// token and on the id token: each must be refused (cases.md B, C, E, F, G).
func TestBrokenTokens(t *testing.T) {
	t.Parallel()
	var attackerHits atomic.Int64
	attackerSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		attackerHits.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(attackerSrv.Close)

	f := newFixture(t, nil)
	muts, err := tokenfactory.All(tokenfactory.Params{Attacker: f.attacker, AttackerURL: attackerSrv.URL + "/jwks", OtherIssuer: "http://127.0.0.1:1/other", OtherAppID: appB})
	if err != nil {
		t.Fatal(err)
	}
	// Accepted mutations: iat in the future is informational and accepted.
	accepted := map[string]bool{"access/" + tokenfactory.IssuedIn(time.Hour).Name: true, "id/" + tokenfactory.IssuedIn(time.Hour).Name: true,
		"id/" + tokenfactory.WithoutClaim("prn").Name: true} // id tokens have no prn
	// MCA tokens select no key by kid (the app's one key is used): a kid
	// shaped like a path is ignored, as real MCA validators did.
	t.Run("kid shaped like a path is ignored", func(t *testing.T) {
		t.Parallel()
		for _, kid := range []string{tokenfactory.KeyIDParentPath, tokenfactory.KeyIDDevNull} {
			m := tokenfactory.KeyID(kid)
			rec, sc := f.do(t, pathFor(appA), "Bearer "+f.access(t, f.fa, appA, "client-1", m)+" "+f.id(t, f.fa, appA, "client-1", m))
			checkResponse(t, rec, sc != nil, 200, "")
		}
	})
	// Mutations that make the header longer than MaxHeaderBytes: 400.
	oversized := map[string]bool{
		tokenfactory.Oversized(64 << 10).Name: true, tokenfactory.ManyClaims(100_000).Name: true, tokenfactory.DeepNesting(100_000).Name: true,
	}
	for _, which := range []string{"access", "id"} {
		for _, m := range muts {
			t.Run(which+"/"+m.Name, func(t *testing.T) {
				t.Parallel()
				at, it := f.access(t, f.fa, appA, "client-1"), f.id(t, f.fa, appA, "client-1")
				if which == "access" {
					at = f.access(t, f.fa, appA, "client-1", m)
				} else {
					it = f.id(t, f.fa, appA, "client-1", m)
				}
				rec, sc := f.do(t, pathFor(appA), "Bearer "+at+" "+it)
				switch {
				case accepted[which+"/"+m.Name]:
					checkResponse(t, rec, sc != nil, 200, "")
				case oversized[m.Name]:
					checkResponse(t, rec, sc != nil, 400, challengeRequest)
				default:
					checkResponse(t, rec, sc != nil, 401, challengeToken)
				}
			})
		}
	}
	t.Cleanup(func() {
		if n := attackerHits.Load(); n != 0 {
			t.Errorf("validator fetched the attacker's jku/x5u URL %d times", n)
		}
	})
}

func TestTokenRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *reference.Config) { c.CacheSize = -1 })
	good := func(t *testing.T) (string, string) {
		return f.access(t, f.fa, appA, "client-1"), f.id(t, f.fa, appA, "client-1")
	}
	tests := []struct {
		name   string
		header func(t *testing.T) string
		app    string
		status int
	}{
		{"valid", func(t *testing.T) string { a, i := good(t); return "Bearer " + a + " " + i }, appA, 200},
		{"exp is now", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fa, appA, "c", tokenfactory.ExpiresIn(0))
		}, appA, 401},
		{"exp in one second", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fa, appA, "c", tokenfactory.ExpiresIn(time.Second))
		}, appA, 200},
		{"nbf now", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fa, appA, "c", tokenfactory.NotYetValid(0))
		}, appA, 200},
		{"id token of another client", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fa, appA, "client-1") + " " + f.id(t, f.fa, appA, "client-2")
		}, appA, 401},
		{"anonymous id token", func(t *testing.T) string {
			it, err := f.fa.IDToken(tokenfactory.ID{AppID: appA, ClientID: "client-1"})
			if err != nil {
				t.Fatal(err)
			}
			return "Bearer " + f.access(t, f.fa, appA, "client-1") + " " + it
		}, appA, 200},
		{"swapped tokens", func(t *testing.T) string { a, i := good(t); return "Bearer " + i + " " + a }, appA, 401},
		{"app B token for app A", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fb, appB, "c")
		}, appA, 401},
		{"app A key, app B aud", func(t *testing.T) string {
			return "Bearer " + f.access(t, f.fa, appB, "c")
		}, appB, 401},
		{"uppercase app id in URL", func(t *testing.T) string { a, _ := good(t); return "Bearer " + a }, strings.ToUpper(appA), 401},
		{"no app id in URL", func(t *testing.T) string { a, _ := good(t); return "Bearer " + a }, "not-a-guid", 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rec, sc := f.do(t, pathFor(tc.app), tc.header(t))
			if rec.Code != tc.status || (sc != nil) != (tc.status == 200) {
				t.Fatalf("status %d (handler ran %v), want %d; body %s", rec.Code, sc != nil, tc.status, rec.Body)
			}
		})
	}
}

func TestLeeway(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *reference.Config) { c.Leeway = 30 * time.Second })
	tests := []struct {
		mut    tokenfactory.Mutation
		status int
	}{
		{tokenfactory.ExpiredBy(29 * time.Second), 200},
		{tokenfactory.ExpiredBy(30 * time.Second), 401},
		{tokenfactory.NotYetValid(30 * time.Second), 200},
		{tokenfactory.NotYetValid(31 * time.Second), 401},
	}
	for _, tc := range tests {
		rec, _ := f.do(t, pathFor(appA), "Bearer "+f.access(t, f.fa, appA, "c", tc.mut))
		if rec.Code != tc.status {
			t.Errorf("%s: status %d, want %d", tc.mut.Name, rec.Code, tc.status)
		}
	}
}

func TestBackendStyleAppID(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *reference.Config) { c.AppID = appB })
	rec, _ := f.do(t, pathFor(appA), "Bearer "+f.access(t, f.fb, appB, "c"))
	if rec.Code != 200 {
		t.Fatalf("backend app id: status %d, want 200 (the URL's GUID must be ignored)", rec.Code)
	}
	rec, _ = f.do(t, "/anything", "Bearer "+f.access(t, f.fa, appA, "c"))
	if rec.Code != 401 {
		t.Fatalf("token of another app: status %d, want 401", rec.Code)
	}
}

func TestCaching(t *testing.T) {
	t.Parallel()
	t.Run("app id is part of the key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *reference.Config) { c.InsecureSkipAudience = true })
		h := "Bearer " + f.access(t, f.fa, appA, "c")
		if rec, _ := f.do(t, pathFor(appA), h); rec.Code != 200 {
			t.Fatalf("app A: %d", rec.Code)
		}
		// Even with aud unchecked, app B's key does not verify app A's token.
		if rec, _ := f.do(t, pathFor(appB), h); rec.Code != 401 {
			t.Fatalf("cached for A, presented for B: %d, want 401", rec.Code)
		}
	})
	t.Run("rejected for one app, accepted for its own", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		h := "Bearer " + f.access(t, f.fa, appA, "c")
		if rec, _ := f.do(t, pathFor(appB), h); rec.Code != 401 {
			t.Fatalf("for B: %d", rec.Code)
		}
		if rec, _ := f.do(t, pathFor(appA), h); rec.Code != 200 {
			t.Fatalf("for A after a rejection for B: %d", rec.Code)
		}
	})
	t.Run("signature is part of the key", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		at := f.access(t, f.fa, appA, "c")
		if rec, _ := f.do(t, pathFor(appA), "Bearer "+at); rec.Code != 200 {
			t.Fatal(rec.Code)
		}
		forged := at[:strings.LastIndexByte(at, '.')+1] + tokenfactory.B64.EncodeToString(make([]byte, 256))
		if rec, _ := f.do(t, pathFor(appA), "Bearer "+forged); rec.Code != 401 {
			t.Fatalf("garbage signature after success: %d", rec.Code)
		}
	})
	t.Run("cached context dies at exp", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, nil)
		at := f.access(t, f.fa, appA, "c", tokenfactory.ExpiresIn(10*time.Second))
		if rec, _ := f.do(t, pathFor(appA), "Bearer "+at); rec.Code != 200 {
			t.Fatal(rec.Code)
		}
		f.clock.Advance(10 * time.Second)
		if rec, _ := f.do(t, pathFor(appA), "Bearer "+at); rec.Code != 401 {
			t.Fatalf("cached token after exp: %d", rec.Code)
		}
	})
	t.Run("rejections are remembered", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t, func(c *reference.Config) { c.RefetchInterval = time.Hour })
		forged := f.access(t, f.other, appA, "c")
		for range 3 {
			if rec, _ := f.do(t, pathFor(appA), "Bearer "+forged); rec.Code != 401 {
				t.Fatal(rec.Code)
			}
		}
		// One fetch, one refetch for the first signature failure, then the
		// rejection is served from the cache.
		if n := f.az.keyFetches.Load(); n != 2 {
			t.Fatalf("%d key fetches, want 2", n)
		}
	})
}

func TestConcurrentContextsDoNotLeak(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	const clients = 8
	headers := make([]string, clients)
	for i := range headers {
		c := fmt.Sprintf("client-%d", i)
		headers[i] = "Bearer " + f.access(t, f.fa, appA, c) + " " + f.id(t, f.fa, appA, c)
	}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				c := (i + g) % clients
				sc, err := f.v.Validate(context.Background(), appA, headers[c])
				if err != nil {
					t.Error(err)
					return
				}
				if want := tokenfactory.SubjectFor(fmt.Sprintf("client-%d", c), testUser); sc.Sub != want {
					t.Errorf("sub %q, want %q", sc.Sub, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestKeyFetchFailuresFailClosed(t *testing.T) {
	t.Parallel()
	for _, fault := range []string{fault500, faultGarbage, faultEmpty, faultHang} {
		t.Run(fault, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, func(c *reference.Config) { c.FetchTimeout = 300 * time.Millisecond })
			f.az.setFault(fault)
			h := f.pair(t)
			start := time.Now()
			var wg sync.WaitGroup
			codes := make([]int, 16)
			for i := range codes {
				wg.Go(func() {
					rec, _ := f.do(t, pathFor(appA), h)
					codes[i] = rec.Code
				})
			}
			wg.Wait()
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("concurrent requests during the outage took %v", d)
			}
			for _, c := range codes {
				if c != http.StatusServiceUnavailable {
					t.Fatalf("status %d during the outage, want 503 (all: %v)", c, codes)
				}
			}
			if n := f.az.keyFetches.Load(); n > 2 {
				t.Errorf("%d key fetches for %d concurrent requests, want them collapsed", n, len(codes))
			}
			// Recovery: the AZ comes back, the negative cache lapses.
			f.az.setFault(faultNone)
			f.az.release()
			f.clock.Advance(reference.DefaultNegativeTTL)
			if rec, _ := f.do(t, pathFor(appA), h); rec.Code != 200 {
				t.Fatalf("after recovery: %d", rec.Code)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	oldTok := f.access(t, f.fa, appA, "c")
	if rec, _ := f.do(t, pathFor(appA), "Bearer "+oldTok); rec.Code != 200 {
		t.Fatal(rec.Code)
	}
	// Rotate app A to the third key: tokens from it are accepted after a refetch.
	f.az.setKey(appA, &f.attacker.PublicKey)
	newTok := f.access(t, f.other, appA, "c")
	if rec, _ := f.do(t, pathFor(appA), "Bearer "+newTok); rec.Code != 200 {
		t.Fatalf("token under the rotated key: %d", rec.Code)
	}
	// The old key is retired: its cached context must not be served.
	if rec, _ := f.do(t, pathFor(appA), "Bearer "+oldTok); rec.Code != 401 {
		t.Fatalf("old-key token after rotation: %d", rec.Code)
	}
	if n := f.az.keyFetches.Load(); n != 2 {
		t.Errorf("%d key fetches, want 2", n)
	}
	// Forged tokens do not refetch more than once per RefetchInterval.
	forged := f.access(t, f.fb, appA, "c")
	for range 5 {
		if rec, _ := f.do(t, pathFor(appA), "Bearer "+forged); rec.Code != 401 {
			t.Fatal(rec.Code)
		}
	}
	if n := f.az.keyFetches.Load(); n > 3 {
		t.Errorf("%d key fetches after forged tokens, want at most 3", n)
	}
}

func TestUnknownAppFloodIsBounded(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *reference.Config) { c.InsecureSkipAudience = false })
	codes := map[int]int{}
	for i := range 200 {
		app := fmt.Sprintf("f100d000-0000-4000-8000-%012d", i)
		rec, _ := f.do(t, pathFor(app), "Bearer "+f.access(t, f.other, app, "c"))
		codes[rec.Code]++
	}
	if n := f.az.keyFetches.Load(); n > int64(reference.DefaultNewAppFetchBurst) {
		t.Fatalf("%d key fetches for 200 unknown apps, want at most %d", n, reference.DefaultNewAppFetchBurst)
	}
	if codes[200] != 0 {
		t.Fatalf("accepted tokens for unknown apps: %v", codes)
	}
}

func TestValidateErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t, nil)
	_, err := f.v.Validate(context.Background(), appA, "Bearer "+f.access(t, f.fa, appA, "c", tokenfactory.ExpiredBy(time.Hour)))
	var e *reference.Error
	if !errors.As(err, &e) || e.Status != 401 || e.Code != reference.CodeInvalidToken || !errors.Is(err, reference.ErrInvalidToken) {
		t.Fatalf("expired token: %#v", err)
	}
	if _, err := f.v.Validate(context.Background(), "", f.pair(t)); !errors.Is(err, reference.ErrInvalidRequest) {
		t.Fatalf("no app id: %v", err)
	}
}

func TestNew(t *testing.T) {
	t.Parallel()
	for _, c := range []reference.Config{{}, {ServerURL: "ftp://x"}, {ServerURL: "http://x", Leeway: -1}} {
		if _, err := reference.New(c); !errors.Is(err, reference.ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", c, err)
		}
	}
	v, err := reference.New(reference.Config{ServerURL: "http://127.0.0.1:1/imf-authserver/"})
	if err != nil {
		t.Fatal(err)
	}
	if c := v.Config(); c.Issuer != "http://127.0.0.1:1/imf-authserver/authorization/" || c.CacheSize != reference.DefaultCacheSize {
		t.Fatalf("defaults: issuer %q cache %d", c.Issuer, c.CacheSize)
	}
}

func TestAppIDFromPath(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"/v1/apps/" + appA + "/protected":                 appA,
		"/x/" + strings.ToUpper(appA) + "/" + appB:        strings.ToUpper(appA),
		"/v1/apps/a1b2c3d4-0000-4000-8000-00000000000/x":  "",
		"/v1/apps/g1b2c3d4-0000-4000-8000-00000000000a/x": "",
		"":                          "",
		"/prefix" + appA + "suffix": appA,
	}
	for in, want := range tests {
		if got := reference.AppIDFromPath(in); got != want {
			t.Errorf("AppIDFromPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// A flood of tokens for distinct unknown app ids spends the new-app budget;
// a legitimate app just registered is still served by its second request
// (the budget's reserve goes to the app id asked for most), and the flood
// gets nothing from the reserve.
func TestNewAppIsServedDuringAnUnknownAppFlood(t *testing.T) {
	t.Parallel()
	f := newFixture(t, func(c *reference.Config) { c.InsecureSkipAudience = false })
	for i := range 300 {
		app := fmt.Sprintf("f100d000-0000-4000-8000-%012d", i)
		f.do(t, pathFor(app), "Bearer "+f.access(t, f.other, app, "c"))
	}
	flood := f.az.keyFetches.Load()
	if max := int64(reference.DefaultNewAppFetchBurst); flood > max {
		t.Fatalf("%d key fetches for 300 unknown apps, want at most %d", flood, max)
	}
	const fresh = "1e917000-0000-4000-8000-000000000001"
	f.az.setKey(fresh, &f.attacker.PublicKey)
	h := "Bearer " + f.access(t, f.other, fresh, "c")
	if rec, _ := f.do(t, pathFor(fresh), h); rec.Code != 503 {
		t.Fatalf("first request of the new app: %d, want 503 (the budget is spent)", rec.Code)
	}
	if rec, _ := f.do(t, pathFor(fresh), h); rec.Code != 200 {
		t.Fatalf("second request of the new app: %d, want 200 from the reserve", rec.Code)
	}
	// An unknown app answered 404 is remembered: asking again within the
	// negative TTL fetches nothing.
	n := f.az.keyFetches.Load()
	for range 5 {
		f.do(t, pathFor("f100d000-0000-4000-8000-000000000000"), "Bearer "+f.access(t, f.other, "f100d000-0000-4000-8000-000000000000", "c"))
	}
	if got := f.az.keyFetches.Load(); got != n {
		t.Errorf("%d key fetches for an app id the AZ just said it does not know", got-n)
	}
}
