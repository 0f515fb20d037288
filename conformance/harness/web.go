package harness

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/mcaspec/mcaspec/conformance/kit"
	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/targets"
)

// The web family's set-up: a web client of the home app at fakeaz, the web
// part of the contract (MCA_WEB_CLIENT_ID, ..., MCA_CALLBACK_URL), and the
// built-in reference web RP (reference/webrp) when no target is given.

// Defaults of a web run.
const (
	DefaultWebClientID = "mcaspec-web"
	DefaultWebSecret   = "mcaspec-web-secret"
	// DefaultWebTargetName labels the built-in reference web RP.
	DefaultWebTargetName = "reference-web"
	// CallbackPath is the contract's callback route.
	CallbackPath = "/web/callback"
)

// errWebMode is returned for targets whose URL is not known before they
// start (an image): the web family cannot run them yet.
var errWebMode = fmt.Errorf("the web family runs against --target URL, --target-cmd, a handler or the built-in reference web RP: %w (the callback URL)", targets.ErrNoAddress)

// webContract registers the web client with callback (the target's base URL
// + CallbackPath) and sets the web part of the contract.
func webContract(az *fakeaz.Server, c *contract.Contract, base string) error {
	cb := strings.TrimRight(base, "/") + CallbackPath
	wc, err := az.AddWebClient(fakeaz.WebClient{ClientID: DefaultWebClientID, Secret: DefaultWebSecret, AppID: c.AppID, RedirectURIs: []string{cb}})
	if err != nil {
		return fmt.Errorf("register the web client: %w", err)
	}
	authz, token := az.WebEndpoints(c.AppID)
	c.Web = &contract.Web{ClientID: wc.ClientID, Secret: wc.Secret, AuthorizationEndpoint: authz, TokenEndpoint: token, CallbackURL: cb}
	return nil
}

// withCallback is c with MCA_CALLBACK_URL set to cb.
func withCallback(c contract.Contract, cb string) contract.Contract {
	if c.Web != nil {
		w := *c.Web
		w.CallbackURL = cb
		c.Web = &w
	}
	return c
}

// webDiagnosis explains a failed web calibration case.
func (s *Session) webDiagnosis(x *kit.Exchange) string {
	authz, _ := s.AZ.WebEndpoints(s.Runner.HomeAppID)
	switch {
	case x == nil:
		return ""
	case x.Error != "":
		return fmt.Sprintf("The target at %s did not answer (%s): is it running and listening on that address?\n", s.Target.URL, x.Error)
	case x.Status == http.StatusNotFound:
		return "The target answered 404: it does not serve /web/protected, /web/callback and /web/logout as the web target contract asks (docs/TARGET-CONTRACT.md, Web sign-in targets).\n"
	case strings.Contains(x.URL, CallbackPath) && x.Status >= 400:
		return fmt.Sprintf("The target refused a valid callback (%d): check that it trades the code at MCA_TOKEN_ENDPOINT with MCA_WEB_CLIENT_ID and MCA_WEB_SECRET (client_secret_basic), sends redirect_uri=MCA_CALLBACK_URL, and accepts id tokens signed by the app's key (iss %s, aud the app id %s).\n", x.Status, s.AZ.URL(), s.Runner.HomeAppID)
	default:
		return fmt.Sprintf("A signed-out browser must be redirected to MCA_AUTHORIZATION_ENDPOINT (%s) and, once back through /web/callback, see 200 {\"user\": …} at /web/protected; the target's sessions must ride on cookies.\n", authz)
	}
}
