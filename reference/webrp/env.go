package webrp

import (
	"errors"

	"github.com/mcaspec/mcaspec/contract"
)

// ConfigFromEnv reads the web target contract's environment
// (contract.FromEnv): MCA_SERVER_URL, MCA_APP_ID, MCA_WEB_CLIENT_ID,
// MCA_WEB_SECRET, MCA_AUTHORIZATION_ENDPOINT, MCA_TOKEN_ENDPOINT,
// MCA_CALLBACK_URL, and the same in VCAP_SERVICES (serverUrl, tenantId,
// clientId, secret, authorizationEndpoint, tokenEndpoint). Explicit MCA_*
// values win. A missing serverUrl is left to New, which checks the result.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	c, err := contract.FromEnv(getenv)
	if err != nil && !errors.Is(err, contract.ErrNoServerURL) {
		return Config{}, errors.Join(ErrConfig, err)
	}
	cfg := Config{ServerURL: c.ServerURL, AppID: c.AppID}
	if w := c.Web; w != nil {
		cfg.ClientID, cfg.Secret = w.ClientID, w.Secret
		cfg.AuthorizationEndpoint, cfg.TokenEndpoint, cfg.CallbackURL = w.AuthorizationEndpoint, w.TokenEndpoint, w.CallbackURL
	}
	return cfg, nil
}
