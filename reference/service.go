package reference

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"
)

// Defaults of a ServiceConfig.
const (
	// DefaultServiceTokenTimeout bounds one token request to the AZ.
	DefaultServiceTokenTimeout = 5 * time.Second
	// DefaultServiceTokenRefreshBefore is how long before expires_in a cached
	// service token is replaced (half the lifetime for short-lived tokens).
	DefaultServiceTokenRefreshBefore = time.Minute
)

// ServiceConfig configures a ServiceTokenSource (the npm SDK's
// getAuthorizationHeader: client credentials of the backend).
type ServiceConfig struct {
	ServerURL string
	AppID     string
	ClientID  string
	Secret    string
	// HTTPClient defaults to a client that follows no redirects.
	HTTPClient *http.Client
	// Clock defaults to time.Now.
	Clock         func() time.Time
	Timeout       time.Duration // default DefaultServiceTokenTimeout
	RefreshBefore time.Duration // default DefaultServiceTokenRefreshBefore
}

// ErrServiceToken is wrapped by every error of AuthorizationHeader;
// ErrBadClientCredentials additionally when the AZ refused the client id or secret.
var (
	ErrServiceToken         = errors.New("reference: cannot get a service token")
	ErrBadClientCredentials = errors.New("the AZ refused the client id or secret (invalid_client)")
)

// ServiceTokenSource obtains and caches the backend's own access token by
// client credentials. It is safe for concurrent use; concurrent callers
// share one request.
type ServiceTokenSource struct {
	cfg    ServiceConfig
	url    string
	flight singleflight.Group

	mu      sync.Mutex
	header  string
	refresh time.Time
}

// NewServiceTokenSource checks cfg and returns a source; no request is made yet.
func NewServiceTokenSource(cfg ServiceConfig) (*ServiceTokenSource, error) {
	cfg.ServerURL = strings.TrimRight(cfg.ServerURL, "/")
	var missing []string
	for _, f := range []struct{ name, v string }{{"ServerURL", cfg.ServerURL}, {"AppID", cfg.AppID}, {"ClientID", cfg.ClientID}, {"Secret", cfg.Secret}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w: service token source: %s empty", ErrConfig, strings.Join(missing, ", "))
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultServiceTokenTimeout
	}
	if cfg.RefreshBefore <= 0 {
		cfg.RefreshBefore = DefaultServiceTokenRefreshBefore
	}
	return &ServiceTokenSource{
		cfg: cfg,
		url: cfg.ServerURL + "/authorization/v1/apps/" + url.PathEscape(cfg.AppID) + "/token",
	}, nil
}

// AuthorizationHeader returns "Bearer <access_token>" for the backend's own
// token, from the cache while it is fresh.
func (s *ServiceTokenSource) AuthorizationHeader(ctx context.Context) (string, error) {
	s.mu.Lock()
	h, fresh := s.header, s.cfg.Clock().Before(s.refresh)
	s.mu.Unlock()
	if h != "" && fresh {
		return h, nil
	}
	ch := s.flight.DoChan("token", func() (any, error) {
		// A caller that read the cache just before an earlier flight
		// finished (and was forgotten) must not request a second token.
		s.mu.Lock()
		h, fresh := s.header, s.cfg.Clock().Before(s.refresh)
		s.mu.Unlock()
		if h != "" && fresh {
			return h, nil
		}
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.Timeout)
		defer cancel()
		return s.request(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return "", r.Err
		}
		return r.Val.(string), nil
	case <-ctx.Done():
		return "", fmt.Errorf("%w: %w", ErrServiceToken, ctx.Err())
	}
}

func (s *ServiceTokenSource) request(ctx context.Context) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrServiceToken, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(s.cfg.ClientID+":"+s.cfg.Secret)))
	start := s.cfg.Clock()
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("%w: POST %s: %w", ErrServiceToken, s.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", fmt.Errorf("%w: POST %s: reading body: %w", ErrServiceToken, s.url, err)
	}
	var tr struct {
		AccessToken string          `json:"access_token"`
		ExpiresIn   json.Number     `json:"expires_in"`
		Error       string          `json:"error"`
		Description string          `json:"error_description"`
		TokenType   json.RawMessage `json:"token_type"`
	}
	jsonErr := json.Unmarshal(body, &tr)
	if resp.StatusCode == http.StatusUnauthorized || tr.Error == "invalid_client" {
		return "", fmt.Errorf("%w: %w (status %d %s); check the client id and secret", ErrServiceToken, ErrBadClientCredentials, resp.StatusCode, tr.Description)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%w: POST %s: status %d %s %s", ErrServiceToken, s.url, resp.StatusCode, tr.Error, tr.Description)
	}
	if jsonErr != nil || tr.AccessToken == "" || !isB64Token(tr.AccessToken) {
		return "", fmt.Errorf("%w: POST %s: response has no usable access_token", ErrServiceToken, s.url)
	}
	life := time.Hour
	if n, err := tr.ExpiresIn.Int64(); err == nil && n > 0 {
		life = time.Duration(n) * time.Second
	}
	before := s.cfg.RefreshBefore
	if before > life/2 {
		before = life / 2
	}
	h := "Bearer " + tr.AccessToken
	s.mu.Lock()
	s.header, s.refresh = h, start.Add(life-before)
	s.mu.Unlock()
	return h, nil
}
