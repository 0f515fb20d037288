// Package contract is the target contract (docs/TARGET-CONTRACT.md): the
// environment a target under test is given (Contract, its Env and
// FromEnv), the routes it serves, the security-context JSON /protected
// answers, the downstream allow-list of /propagate and /service-call, and
// one server of those routes (Server) that the reference target, the
// benchmark's baseline and bare targets build with their own Authenticator.
package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/mcaspec/mcaspec/internal/downstream"
	"github.com/mcaspec/mcaspec/internal/listen"
	"github.com/mcaspec/mcaspec/reference"
)

// The contract's environment variables.
const (
	EnvHost            = "HOST"
	EnvPort            = "PORT"
	EnvServerURL       = "MCA_SERVER_URL"
	EnvIssuer          = "MCA_ISSUER"
	EnvAppID           = "MCA_APP_ID"
	EnvClientID        = "MCA_CLIENT_ID"
	EnvSecret          = "MCA_SECRET"
	EnvMode            = "MCA_MODE"
	EnvDownstreamHosts = downstream.Env
	EnvVCAPServices    = "VCAP_SERVICES"
	EnvVCAPApplication = "VCAP_APPLICATION"
	// The web sign-in part (Web).
	EnvWebClientID           = "MCA_WEB_CLIENT_ID"
	EnvWebSecret             = "MCA_WEB_SECRET"
	EnvAuthorizationEndpoint = "MCA_AUTHORIZATION_ENDPOINT"
	EnvTokenEndpoint         = "MCA_TOKEN_ENDPOINT"
	EnvCallbackURL           = "MCA_CALLBACK_URL"
)

// MCA_MODE values.
const (
	ModeResource = "resource" // the app id is the first GUID of the URL (the default)
	ModeBackend  = "backend"  // the app id comes from the environment only
)

// The VCAP_SERVICES entry Env writes (reference.ParseVCAP reads it).
const (
	vcapServiceName            = "AdvancedMobileAccess"
	vcapServiceInstanceName    = "AdvancedMobileAccess-mcaspec"
	vcapAuthorizationEndpoint  = "authorizationEndpoint"
	vcapTokenEndpoint          = "tokenEndpoint"
	vcapClientID, vcapSecret   = "clientId", "secret"
	vcapServerURL, vcapTenant  = "serverUrl", "tenantId"
	vcapApplicationIDAttribute = "application_id"
)

// The contract's routes, as http.ServeMux patterns.
const (
	RouteHealthz     = "GET /healthz"
	RouteProtected   = "GET /v1/apps/{appId}/protected"
	RoutePropagate   = "GET /v1/apps/{appId}/propagate"
	RouteServiceCall = "GET /v1/apps/{appId}/service-call"
)

// ProtectedPath is the path of /protected for an app id.
func ProtectedPath(appID string) string { return "/v1/apps/" + appID + "/protected" }

// DefaultHost is HOST when it is not given.
const DefaultHost = "127.0.0.1"

var (
	// ErrConfig is wrapped by the error of a bad contract value.
	ErrConfig = errors.New("target: bad configuration")
	// ErrNoServerURL is wrapped, beside ErrConfig, when FromEnv finds no AZ
	// serverUrl; the Contract it returns then holds all else it read.
	ErrNoServerURL = errors.New("no AZ serverUrl")
)

// Contract is what the harness gives a target.
type Contract struct {
	ServerURL string // MCA_SERVER_URL: the AZ serverUrl
	// Issuer is MCA_ISSUER, the exact iss of the AZ's tokens
	// ("{serverUrl}/authorization/" for fakeaz); "" = not passed.
	Issuer   string
	AppID    string // MCA_APP_ID (also VCAP tenantId and application_id)
	ClientID string // MCA_CLIENT_ID: the target's service client (optional)
	Secret   string // MCA_SECRET (optional)
	Backend  bool   // MCA_MODE=backend: the app id comes from the env only
	// Host is HOST, the address the target listens on; "" = DefaultHost.
	// 0.0.0.0 makes it reachable from the network (a container on a bridge).
	Host string
	// DownstreamHosts is MCA_DOWNSTREAM_HOSTS, the hosts /propagate and
	// /service-call may call (comma-separated host[:port]); "" = not passed,
	// loopback only. AllowList parses it.
	DownstreamHosts string
	// Web is the web sign-in part of the contract (nil: a bearer target).
	Web   *Web
	Extra map[string]string // more environment, e.g. LOG_LEVEL
}

// Web is what a web sign-in target (a website using the authorization-code
// flow, e.g. MCAWebSiteStrategy) is given beside the bearer contract.
type Web struct {
	ClientID              string // MCA_WEB_CLIENT_ID (VCAP clientId)
	Secret                string // MCA_WEB_SECRET (VCAP secret)
	AuthorizationEndpoint string // MCA_AUTHORIZATION_ENDPOINT: an absolute URL at the AZ
	TokenEndpoint         string // MCA_TOKEN_ENDPOINT: an absolute URL at the AZ
	// CallbackURL is MCA_CALLBACK_URL, the target's own /web/callback URL
	// as the browser reaches it (computed by the harness).
	CallbackURL string
}

// Env returns the contract's environment for a target listening on port
// (HOST is always set, DefaultHost when Contract.Host is empty).
func (c Contract) Env(port int) []string {
	creds := map[string]string{vcapServerURL: c.ServerURL, vcapTenant: c.AppID, vcapClientID: c.ClientID, vcapSecret: c.Secret}
	if c.Web != nil {
		// What MCAWebSiteStrategy reads: the web client replaces the service client.
		creds[vcapClientID], creds[vcapSecret] = c.Web.ClientID, c.Web.Secret
		creds[vcapAuthorizationEndpoint], creds[vcapTokenEndpoint] = c.Web.AuthorizationEndpoint, c.Web.TokenEndpoint
	}
	vs, _ := json.Marshal(map[string]any{vcapServiceName: []any{map[string]any{
		"name": vcapServiceInstanceName, "label": vcapServiceName, "credentials": creds}}})
	va, _ := json.Marshal(map[string]string{vcapApplicationIDAttribute: c.AppID})
	host := c.Host
	if host == "" {
		host = DefaultHost
	}
	env := []string{
		EnvHost + "=" + host,
		EnvPort + "=" + strconv.Itoa(port),
		EnvServerURL + "=" + c.ServerURL,
		EnvAppID + "=" + c.AppID,
		EnvClientID + "=" + c.ClientID,
		EnvSecret + "=" + c.Secret,
		EnvVCAPServices + "=" + string(vs),
		EnvVCAPApplication + "=" + string(va),
	}
	if c.Issuer != "" {
		env = append(env, EnvIssuer+"="+c.Issuer)
	}
	if c.Backend {
		env = append(env, EnvMode+"="+ModeBackend)
	}
	if c.DownstreamHosts != "" {
		env = append(env, EnvDownstreamHosts+"="+c.DownstreamHosts)
	}
	if w := c.Web; w != nil {
		env = append(env,
			EnvWebClientID+"="+w.ClientID,
			EnvWebSecret+"="+w.Secret,
			EnvAuthorizationEndpoint+"="+w.AuthorizationEndpoint,
			EnvTokenEndpoint+"="+w.TokenEndpoint,
			EnvCallbackURL+"="+w.CallbackURL)
	}
	for k, v := range c.Extra {
		env = append(env, k+"="+v)
	}
	return env
}

// EnvMap is Env as a map.
func (c Contract) EnvMap(port int) map[string]string {
	m := map[string]string{}
	for _, kv := range c.Env(port) {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return m
}

// AllowList parses DownstreamHosts (an error wraps ErrConfig).
func (c Contract) AllowList() (downstream.AllowList, error) {
	a, err := downstream.ParseAllowList(c.DownstreamHosts)
	if err != nil {
		return a, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return a, nil
}

// FromEnv reads the contract from a target's environment, as Env writes
// it: MCA_SERVER_URL, MCA_ISSUER, MCA_APP_ID, MCA_CLIENT_ID, MCA_SECRET,
// MCA_MODE (resource or backend), MCA_DOWNSTREAM_HOSTS, HOST, the web part
// (MCA_WEB_*, MCA_AUTHORIZATION_ENDPOINT, MCA_TOKEN_ENDPOINT,
// MCA_CALLBACK_URL: Web is set when one of them, or a VCAP endpoint, is),
// and VCAP_SERVICES / VCAP_APPLICATION (reference.ParseVCAP); explicit MCA_*
// values win over VCAP_*. The VCAP clientId and secret are the web
// client's in a web contract, the service client's otherwise. A bad value
// is an error wrapping ErrConfig; a missing serverUrl one wrapping
// ErrNoServerURL too, with the rest of the Contract read.
func FromEnv(getenv func(string) string) (Contract, error) {
	var c Contract
	var v reference.VCAP
	if s, a := getenv(EnvVCAPServices), getenv(EnvVCAPApplication); s != "" || a != "" {
		var err error
		if v, err = reference.ParseVCAP(s, a); err != nil {
			return c, fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	or := func(name, def string) string { return cmpOr(getenv(name), def) }
	c.ServerURL, c.Issuer, c.AppID = or(EnvServerURL, v.ServerURL), getenv(EnvIssuer), or(EnvAppID, v.AppID())
	c.Host, c.DownstreamHosts = strings.TrimSpace(getenv(EnvHost)), getenv(EnvDownstreamHosts)
	w := Web{ClientID: or(EnvWebClientID, v.ClientID), Secret: or(EnvWebSecret, v.Secret),
		AuthorizationEndpoint: or(EnvAuthorizationEndpoint, v.AuthorizationEndpoint), TokenEndpoint: or(EnvTokenEndpoint, v.TokenEndpoint),
		CallbackURL: getenv(EnvCallbackURL)}
	c.ClientID, c.Secret = or(EnvClientID, v.ClientID), or(EnvSecret, v.Secret)
	if w.AuthorizationEndpoint != "" || w.TokenEndpoint != "" || w.CallbackURL != "" || getenv(EnvWebClientID) != "" || getenv(EnvWebSecret) != "" {
		c.Web = &w
		c.ClientID, c.Secret = getenv(EnvClientID), getenv(EnvSecret)
	}
	switch m := getenv(EnvMode); m {
	case "", ModeResource:
	case ModeBackend:
		c.Backend = true
	default:
		return c, fmt.Errorf("%w: mode %q (want %q or %q)", ErrConfig, m, ModeResource, ModeBackend)
	}
	if _, err := c.AllowList(); err != nil {
		return c, err
	}
	if c.ServerURL == "" {
		return c, fmt.Errorf("%w: %w: %s is not set (nor a serverUrl in %s): set it to the AZ serverUrl, e.g. http://127.0.0.1:8080/imf-authserver", ErrConfig, ErrNoServerURL, EnvServerURL, EnvVCAPServices)
	}
	return c, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// ListenFromEnv is the listen address of the contract's HOST and PORT:
// HOST:PORT when either is set (HOST defaults to 127.0.0.1, PORT to 0), else
// "". HOST may be an IPv6 address with or without brackets. A bad value is
// an error wrapping ErrConfig.
func ListenFromEnv(getenv func(string) string) (string, error) {
	host, port := strings.TrimSpace(getenv(EnvHost)), strings.TrimSpace(getenv(EnvPort))
	if host == "" && port == "" {
		return "", nil
	}
	if host == "" {
		host = DefaultHost
	}
	if port == "" {
		port = "0"
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if _, err := netip.ParseAddr(host); err != nil && strings.ContainsAny(host, ":/?#@ \t[]") {
		return "", fmt.Errorf("%w: HOST=%q: want an IP address or a host name, e.g. 0.0.0.0 (every interface) or 127.0.0.1", ErrConfig, getenv(EnvHost))
	}
	addr, err := listen.Addr(net.JoinHostPort(host, port))
	if err != nil {
		return "", fmt.Errorf("%w: HOST=%q PORT=%q: %w", ErrConfig, getenv(EnvHost), getenv(EnvPort), err)
	}
	return addr, nil
}
