package webrp

import (
	"encoding/json"
	"fmt"
)

// ConfigFromEnv reads the web target contract's environment:
// MCA_SERVER_URL, MCA_APP_ID, MCA_WEB_CLIENT_ID, MCA_WEB_SECRET,
// MCA_AUTHORIZATION_ENDPOINT, MCA_TOKEN_ENDPOINT, MCA_CALLBACK_URL, and the
// same in VCAP_SERVICES (serverUrl, tenantId, clientId, secret,
// authorizationEndpoint, tokenEndpoint). Explicit MCA_* values win. The
// result is checked by New.
func ConfigFromEnv(getenv func(string) string) (Config, error) {
	var c Config
	if vs := getenv("VCAP_SERVICES"); vs != "" {
		var v map[string][]struct {
			Credentials map[string]string `json:"credentials"`
		}
		if err := json.Unmarshal([]byte(vs), &v); err != nil {
			return c, fmt.Errorf("%w: VCAP_SERVICES is not JSON: %v", ErrConfig, err)
		}
		if svc := v["AdvancedMobileAccess"]; len(svc) > 0 {
			cr := svc[0].Credentials
			c.ServerURL, c.AppID, c.ClientID, c.Secret = cr["serverUrl"], cr["tenantId"], cr["clientId"], cr["secret"]
			c.AuthorizationEndpoint, c.TokenEndpoint = cr["authorizationEndpoint"], cr["tokenEndpoint"]
		}
	}
	for _, kv := range []struct {
		name string
		dst  *string
	}{{"MCA_SERVER_URL", &c.ServerURL}, {"MCA_APP_ID", &c.AppID}, {"MCA_WEB_CLIENT_ID", &c.ClientID}, {"MCA_WEB_SECRET", &c.Secret},
		{"MCA_AUTHORIZATION_ENDPOINT", &c.AuthorizationEndpoint}, {"MCA_TOKEN_ENDPOINT", &c.TokenEndpoint}, {"MCA_CALLBACK_URL", &c.CallbackURL}} {
		if v := getenv(kv.name); v != "" {
			*kv.dst = v
		}
	}
	return c, nil
}
