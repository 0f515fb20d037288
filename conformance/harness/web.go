package harness

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/mcaspec/mcaspec/conformance"
	"github.com/mcaspec/mcaspec/fakeaz"
	"github.com/mcaspec/mcaspec/reference/webrp"
	"github.com/mcaspec/mcaspec/targets/launch"
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

// errWebMode is returned for target modes the web family cannot run yet.
var errWebMode = errors.New("the web family runs against --target URL, --target-cmd or the built-in reference web RP: the callback URL must be known before the target starts")

// webContract registers the web client with callback (the target's base URL
// + CallbackPath) and sets the web part of the contract.
func webContract(az *fakeaz.Server, c *launch.Contract, base string) error {
	cb := strings.TrimRight(base, "/") + CallbackPath
	wc, err := az.AddWebClient(fakeaz.WebClient{ClientID: DefaultWebClientID, Secret: DefaultWebSecret, AppID: c.AppID, RedirectURIs: []string{cb}})
	if err != nil {
		return fmt.Errorf("register the web client: %w", err)
	}
	authz, token := az.WebEndpoints(c.AppID)
	c.Web = &launch.Web{ClientID: wc.ClientID, Secret: wc.Secret, AuthorizationEndpoint: authz, TokenEndpoint: token, CallbackURL: cb}
	return nil
}

// withCallback is c with MCA_CALLBACK_URL set to cb.
func withCallback(c launch.Contract, cb string) launch.Contract {
	if c.Web != nil {
		w := *c.Web
		w.CallbackURL = cb
		c.Web = &w
	}
	return c
}

// cmdBase is the URL a --target-cmd target on port will have.
func cmdBase(c launch.Contract, port int) string {
	return "http://" + net.JoinHostPort(launch.DialHost(c.Host), strconv.Itoa(port))
}

// startWebReference serves the reference web RP on a loopback port.
func (s *Session) startWebReference(az *fakeaz.Server, c *launch.Contract, cfg Config) (string, error) {
	if cfg.Family != conformance.FamilyWeb {
		return "", fmt.Errorf("the built-in reference web RP speaks MCA (--family web); --family %s needs a target (--target-cmd or --target)", cfg.Family)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	base := "http://" + ln.Addr().String()
	if err := webContract(az, c, base); err != nil {
		ln.Close()
		return "", err
	}
	rc, err := webrp.ConfigFromEnv(Getenv(*c))
	if err == nil {
		if cfg.WebReferenceConfig != nil {
			cfg.WebReferenceConfig(&rc)
		}
		build := func(rc webrp.Config) (http.Handler, error) {
			rp, err := webrp.New(rc)
			if err != nil || cfg.WrapTarget == nil {
				return rp, err
			}
			return cfg.WrapTarget(rp), nil
		}
		var h http.Handler
		if h, err = build(rc); err == nil {
			var cur atomic.Pointer[http.Handler]
			cur.Store(&h)
			// A relaunch with another callback URL is a new RP (its sessions gone, as after a restart).
			s.relaunch = func(_ context.Context, cb string) error {
				rc2 := rc
				rc2.CallbackURL = cb
				h2, err := build(rc2)
				if err == nil {
					cur.Store(&h2)
				}
				return err
			}
			hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*cur.Load()).ServeHTTP(w, r) }),
				ReadHeaderTimeout: webrp.DefaultReadHeaderTimeout}
			go func() { _ = hs.Serve(ln) }()
			s.closers = append(s.closers, hs.Close)
			return base, nil
		}
	}
	ln.Close()
	return "", fmt.Errorf("%w: the reference web RP: %v", ErrTargetDown, err)
}

// isWeb reports whether cfg runs the web family.
func isWeb(cfg Config) bool { return cfg.Family.IsWeb() }

// webDiagnosis explains a failed web calibration case.
func (s *Session) webDiagnosis(x *conformance.Exchange) string {
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
