package fakedevice_test

// A small, strict authorization server for the tests: it checks the
// device's wire format to the letter and issues tokens with tokenfactory.

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jws/jwsbb"
	"github.com/mcaspec/mcaspec/fakedevice"
	"github.com/mcaspec/mcaspec/tokenfactory"
)

const (
	testAppID            = "2fe35477-5a87-4b7c-9b0b-123456789abc"
	testBundle           = "com.example.app"
	testAppVer           = "1.0"
	challengeContentType = "application/json"
)

var (
	sharedOnce sync.Once
	azKey      *rsa.PrivateKey // the AZ signing key (2048)
	devKey     *rsa.PrivateKey // a 512-bit device key shared by most tests
	quirkKey   *rsa.PrivateKey // a 512-bit key whose std-base64 modulus has '+' and '/' ('/' also with a leading zero)
	sharedErr  error
)

func keys(t testing.TB) {
	t.Helper()
	sharedOnce.Do(func() {
		if azKey, sharedErr = tokenfactory.GenerateKey(2048, nil); sharedErr != nil {
			return
		}
		if devKey, sharedErr = tokenfactory.GenerateKey(512, nil); sharedErr != nil {
			return
		}
		for range 200 {
			k, err := tokenfactory.GenerateKey(512, nil)
			if err != nil {
				sharedErr = err
				return
			}
			s := base64.StdEncoding.EncodeToString(k.N.Bytes())
			z := base64.StdEncoding.EncodeToString(append([]byte{0}, k.N.Bytes()...))
			if strings.Contains(s, "/") && strings.Contains(s, "+") && strings.Contains(z, "/") {
				quirkKey = k
				return
			}
		}
		sharedErr = fmt.Errorf("no 512-bit key with '+' and '/' in its modulus after 200 tries")
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
}

// step is what the AZ's flow says for one authorization GET.
type step struct {
	challenges map[string]any     // non-nil: 401 WL-Composite-Challenge
	user       *tokenfactory.User // on success (nil: anonymous)
}

// flowFunc decides the authorization answer. round counts the GETs of this
// client since its last code; answer is the parsed Bearer JSON (nil on the
// first GET). A non-nil error becomes a 400 and fails the test.
type flowFunc func(round int, answer map[string]json.RawMessage) (step, error)

func anonymous(int, map[string]json.RawMessage) (step, error) { return step{}, nil }

type client struct {
	pub     *rsa.PublicKey
	session string
	csr     map[string]string
	round   int
	user    *tokenfactory.User
}

type testAZ struct {
	t   *testing.T
	srv *httptest.Server
	f   *tokenfactory.Factory
	url string // serverUrl

	flow flowFunc
	// faults, set before use
	failPath       string // path suffix answered with failStatus/failBody
	failStatus     int
	failBody       string
	failTimes      atomic.Int32 // when > 0 at start: fail only this many times
	failLimit      bool
	hang           bool // every AZ request waits for the client to go away
	stop           chan struct{}
	rejectRes      atomic.Int32             // the resource answers 401 imfAuthentication to this many requests
	resStatus      int                      // status of rejections (default 401)
	resWWW         []string                 // WWW-Authenticate values of rejections
	location       func(code string) string // Location of the code redirect (default: code and an empty wl_result)
	redirectStatus int                      // status of the code redirect (default 302)
	noIDToken      bool                     // the token answer lacks id_token

	mu        sync.Mutex
	clients   map[string]*client
	codes     map[string]string // code -> clientId
	csrs      []string          // raw CSRs seen
	proofs    []string          // raw X-WL-Authenticate seen
	answers   []string          // raw Authorization headers of answers
	authGETs  int
	resBodies []string

	resourceHits atomic.Int32
	inFlight     atomic.Int32
	maxInFlight  atomic.Int32
}

func newAZ(t *testing.T, flow flowFunc) *testAZ {
	t.Helper()
	keys(t)
	az := &testAZ{t: t, flow: flow, clients: map[string]*client{}, codes: map[string]string{}, resStatus: http.StatusUnauthorized,
		resWWW: []string{`Bearer realm="imfAuthentication", error="invalid_token"`}}
	az.stop = make(chan struct{})
	az.srv = httptest.NewServer(az)
	t.Cleanup(az.srv.Close)
	t.Cleanup(func() { close(az.stop) }) // runs first: releases hanging handlers
	az.url = az.srv.URL + "/imf-authserver"
	var err error
	if az.f, err = tokenfactory.New(azKey, tokenfactory.WithIssuer(az.url)); err != nil {
		t.Fatal(err)
	}
	return az
}

func (az *testAZ) config() fakedevice.Config {
	return fakedevice.Config{ServerURL: az.url, AppID: testAppID, BundleID: testBundle, AppVersion: testAppVer, Key: devKey}
}

func (az *testAZ) resourceURL() string { return az.srv.URL + "/resource" }

// violation fails the test and answers 400 with the reason.
func (az *testAZ) violation(w http.ResponseWriter, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	az.t.Errorf("test AZ: device violated the protocol: %s", msg)
	http.Error(w, `{"error":"invalid_request","error_description":`+fmt.Sprintf("%q", msg)+`}`, http.StatusBadRequest)
}

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func (az *testAZ) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := az.inFlight.Add(1)
	defer az.inFlight.Add(-1)
	for {
		m := az.maxInFlight.Load()
		if n <= m || az.maxInFlight.CompareAndSwap(m, n) {
			break
		}
	}
	if r.URL.Path == "/resource" {
		az.resource(w, r)
		return
	}
	if az.hang {
		// Read the body first: only then does the server notice a client
		// that goes away and cancel r.Context().
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-az.stop:
		}
		return
	}
	prefix := "/imf-authserver/authorization/v1/apps/" + testAppID + "/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		az.violation(w, "unexpected path %q", r.URL.Path)
		return
	}
	ep := strings.TrimPrefix(r.URL.Path, prefix)
	if az.failPath != "" && ep == az.failPath && (!az.failLimit || az.failTimes.Add(-1) >= 0) {
		w.WriteHeader(az.failStatus)
		_, _ = w.Write([]byte(az.failBody))
		return
	}
	if !uuidRE.MatchString(r.Header.Get("X-WL-Session")) {
		az.violation(w, "X-WL-Session %q is not a lower-case UUID", r.Header.Get("X-WL-Session"))
		return
	}
	switch ep {
	case "clients/instance":
		az.register(w, r)
	case "authorization":
		az.authorization(w, r)
	case "token":
		az.token(w, r)
	case "logout":
		az.logout(w, r)
	default:
		az.violation(w, "unknown endpoint %q", ep)
	}
}

// verifyJWS checks a compact RS256 JWS whose header carries jpk, verifying
// with the jpk key, and returns the key and the decoded payload.
func verifyJWS(tok string) (*rsa.PublicKey, []byte, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, fmt.Errorf("JWS has %d segments", len(parts))
	}
	hdr, err := tokenfactory.DecodeLenient(parts[0])
	if err != nil {
		return nil, nil, fmt.Errorf("header not base64: %v", err)
	}
	var h struct {
		Alg string `json:"alg"`
		JPK struct {
			Alg, Mod, Exp string
		} `json:"jpk"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil {
		return nil, nil, fmt.Errorf("header not JSON: %v", err)
	}
	var keys map[string]any
	_ = json.Unmarshal(hdr, &keys)
	if h.Alg != "RS256" || h.JPK.Alg != "RSA" || len(keys) != 2 {
		return nil, nil, fmt.Errorf("header %s: want exactly alg RS256 and jpk with alg RSA", hdr)
	}
	pub, err := tokenfactory.DecodeModExp(h.JPK.Mod, h.JPK.Exp)
	if err != nil {
		return nil, nil, err
	}
	sig, err := tokenfactory.DecodeLenient(parts[2])
	if err != nil {
		return nil, nil, fmt.Errorf("signature not base64: %v", err)
	}
	if err := jwsbb.Verify(pub, "RS256", []byte(parts[0]+"."+parts[1]), sig); err != nil {
		return nil, nil, fmt.Errorf("signature does not verify with the jpk key: %v", err)
	}
	payload, err := tokenfactory.DecodeLenient(parts[1])
	if err != nil {
		return nil, nil, fmt.Errorf("payload not base64: %v", err)
	}
	return pub, payload, nil
}

func checkForm(r *http.Request, want ...string) error {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		return fmt.Errorf("Content-Type %q", ct)
	}
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s", r.Method)
	}
	if err := r.ParseForm(); err != nil {
		return err
	}
	if len(r.PostForm) != len(want) {
		return fmt.Errorf("form fields %v, want %v", r.PostForm, want)
	}
	for _, k := range want {
		if len(r.PostForm[k]) != 1 || r.PostForm[k][0] == "" {
			return fmt.Errorf("form field %q missing or repeated: %v", k, r.PostForm)
		}
	}
	return nil
}

var oidUID = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}

func (az *testAZ) register(w http.ResponseWriter, r *http.Request) {
	if err := checkForm(r, "CSR"); err != nil {
		az.violation(w, "registration: %v", err)
		return
	}
	csr := r.PostForm.Get("CSR")
	pub, payload, err := verifyJWS(csr)
	if err != nil {
		az.violation(w, "CSR: %v", err)
		return
	}
	var p map[string]string
	if err := json.Unmarshal(payload, &p); err != nil {
		az.violation(w, "CSR payload %s: %v", payload, err)
		return
	}
	for _, k := range []string{"deviceId", "deviceOs", "deviceModel", "applicationId", "applicationVersion", "environment"} {
		if p[k] == "" {
			az.violation(w, "CSR payload lacks %s: %s", k, payload)
			return
		}
	}
	if len(p) != 6 || p["applicationId"] != testBundle || p["applicationVersion"] != testAppVer ||
		(p["environment"] != "iOSnative" && p["environment"] != "android") {
		az.violation(w, "CSR payload %s", payload)
		return
	}
	var idb [20]byte
	_, _ = rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{ExtraNames: []pkix.AttributeTypeAndValue{{Type: oidUID, Value: id}}},
		NotBefore:    time.Now().Add(-time.Minute),
		NotAfter:     time.Now().Add(24 * time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, azKey)
	if err != nil {
		az.t.Errorf("test AZ: certificate: %v", err)
		http.Error(w, err.Error(), 500)
		return
	}
	az.mu.Lock()
	az.clients[id] = &client{pub: pub, session: r.Header.Get("X-WL-Session"), csr: p}
	az.csrs = append(az.csrs, csr)
	az.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]string{"certificate": base64.StdEncoding.EncodeToString(der), "clientId": id})
}

func (az *testAZ) lookup(w http.ResponseWriter, r *http.Request, id string) *client {
	az.mu.Lock()
	c := az.clients[id]
	az.mu.Unlock()
	if c == nil {
		az.violation(w, "unknown client_id %q", id)
		return nil
	}
	if c.session != r.Header.Get("X-WL-Session") {
		az.violation(w, "X-WL-Session changed within the device session")
		return nil
	}
	return c
}

func (az *testAZ) authorization(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if r.Method != http.MethodGet || len(q) != 3 || q.Get("response_type") != "code" || q.Get("redirect_uri") != "http://localhost" {
		az.violation(w, "authorization request %s %s", r.Method, r.URL)
		return
	}
	c := az.lookup(w, r, q.Get("client_id"))
	if c == nil {
		return
	}
	var answer map[string]json.RawMessage
	if h := r.Header.Get("Authorization"); h != "" {
		raw, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || json.Unmarshal([]byte(raw), &answer) != nil || len(answer) == 0 {
			az.violation(w, "challenge answer %q is not `Bearer {\"<realm>\": ...}`", h)
			return
		}
		az.mu.Lock()
		az.answers = append(az.answers, h)
		az.mu.Unlock()
	}
	az.mu.Lock()
	round := c.round
	c.round++
	az.authGETs++
	az.mu.Unlock()
	st, err := az.flow(round, answer)
	if err != nil {
		az.violation(w, "round %d: %v", round, err)
		return
	}
	if st.challenges != nil {
		body, _ := json.Marshal(map[string]any{"challenges": st.challenges})
		w.Header().Set("WWW-Authenticate", "WL-Composite-Challenge")
		w.Header().Set("Content-Type", challengeContentType)
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte("/*-secure-\n" + string(body) + "*/"))
		return
	}
	var cb [32]byte
	_, _ = rand.Read(cb[:])
	code := tokenfactory.B64.EncodeToString(cb[:])
	az.mu.Lock()
	az.codes[code] = q.Get("client_id")
	c.user, c.round = st.user, 0
	az.mu.Unlock()
	loc := "http://localhost?code=" + code + "&wl_result=%7B%7D"
	if az.location != nil {
		loc = az.location(code)
	}
	w.Header().Set("Location", loc)
	if az.redirectStatus != 0 {
		w.WriteHeader(az.redirectStatus)
		return
	}
	w.WriteHeader(http.StatusFound)
}

func (az *testAZ) token(w http.ResponseWriter, r *http.Request) {
	if err := checkForm(r, "code", "client_id", "grant_type", "redirect_uri"); err != nil {
		az.violation(w, "token: %v", err)
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "authorization_code" || f.Get("redirect_uri") != "http://localhost" {
		az.violation(w, "token form %v", f)
		return
	}
	c := az.lookup(w, r, f.Get("client_id"))
	if c == nil {
		return
	}
	az.mu.Lock()
	owner, ok := az.codes[f.Get("code")]
	delete(az.codes, f.Get("code"))
	proof := r.Header.Get("X-WL-Authenticate")
	az.proofs = append(az.proofs, proof)
	az.mu.Unlock()
	if !ok || owner != f.Get("client_id") {
		az.violation(w, "code %q unknown, reused or not this client's", f.Get("code"))
		return
	}
	pub, payload, err := verifyJWS(proof)
	if err != nil {
		az.violation(w, "X-WL-Authenticate: %v", err)
		return
	}
	if !pub.Equal(c.pub) {
		az.violation(w, "X-WL-Authenticate signed with a key other than the registered one")
		return
	}
	var p map[string]string
	if json.Unmarshal(payload, &p) != nil || len(p) != 1 || p["code"] != f.Get("code") {
		az.violation(w, "X-WL-Authenticate payload %s, want {\"code\": %q}", payload, f.Get("code"))
		return
	}
	access, err := az.f.AccessToken(tokenfactory.Access{AppID: testAppID, ClientID: f.Get("client_id")})
	if err != nil {
		az.t.Error(err)
		return
	}
	idt, err := az.f.IDToken(tokenfactory.ID{AppID: testAppID, ClientID: f.Get("client_id"), User: c.user,
		Device:      tokenfactory.Device{ID: c.csr["deviceId"], Platform: c.csr["environment"], Model: c.csr["deviceModel"], OSVersion: c.csr["deviceOs"]},
		Application: tokenfactory.Application{ID: c.csr["applicationId"], Version: c.csr["applicationVersion"]}})
	if err != nil {
		az.t.Error(err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	ans := map[string]any{"access_token": access, "id_token": idt, "token_type": "Bearer", "expires_in": 3600}
	if az.noIDToken {
		delete(ans, "id_token")
	}
	_ = json.NewEncoder(w).Encode(ans)
}

func (az *testAZ) logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || az.lookup(w, r, r.URL.Query().Get("client_id")) == nil {
		if r.Method != http.MethodGet {
			az.violation(w, "logout method %s", r.Method)
		}
		return
	}
	w.WriteHeader(http.StatusOK)
}

// resource is a protected resource: it checks the access token's signature
// and, while rejectRes > 0 (or when the request has no Authorization, as
// a real device's first request), rejects with resStatus and resWWW.
func (az *testAZ) resource(w http.ResponseWriter, r *http.Request) {
	az.resourceHits.Add(1)
	body := make([]byte, 1024)
	n, _ := r.Body.Read(body)
	az.mu.Lock()
	az.resBodies = append(az.resBodies, string(body[:n]))
	az.mu.Unlock()
	if r.Header.Get("Authorization") == "" || az.rejectRes.Add(-1) >= 0 {
		for _, v := range az.resWWW {
			w.Header().Add("WWW-Authenticate", v)
		}
		w.WriteHeader(az.resStatus)
		return
	}
	parts := strings.Fields(r.Header.Get("Authorization"))
	if len(parts) != 3 || parts[0] != "Bearer" {
		az.violation(w, "resource Authorization %q is not `Bearer <access> <id>`", r.Header.Get("Authorization"))
		return
	}
	for _, tok := range parts[1:] {
		seg := strings.Split(tok, ".")
		if len(seg) != 3 {
			az.violation(w, "resource: token has %d segments", len(seg))
			return
		}
		sig, err := tokenfactory.B64.DecodeString(seg[2])
		if err != nil || jwsbb.Verify(&azKey.PublicKey, "RS256", []byte(seg[0]+"."+seg[1]), sig) != nil {
			az.violation(w, "resource: token does not verify")
			return
		}
	}
	_, _ = w.Write([]byte(`{"ok":true}`))
}
