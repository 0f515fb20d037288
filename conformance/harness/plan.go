package harness

import (
	"cmp"
	"strings"

	"github.com/mcaspec/mcaspec/contract"
	"github.com/mcaspec/mcaspec/fakeaz"
)

// PlannedContract is the contract a target gets in a run configured by cfg,
// told without starting anything (mcaspec conformance --print-contract):
// the AZ at its listen address or public URL, and for the web family the
// callback under targetURL ("" when the target's URL is not known yet).
// Prepare builds a run's contract with the same contractFor.
func PlannedContract(cfg Config, targetURL string) (contract.Contract, error) {
	cfg, err := withDefaults(cfg)
	if err != nil {
		return contract.Contract{}, err
	}
	serverURL := "http://" + cfg.AZListen + fakeaz.BasePath
	if cfg.AZPublicURL != "" {
		if serverURL, err = fakeaz.ParsePublicURL(cfg.AZPublicURL); err != nil {
			return contract.Contract{}, err
		}
	}
	c := contractFor(cfg, serverURL)
	if cfg.Family.IsWeb() {
		authz, token := fakeaz.WebEndpointsAt(serverURL, c.AppID, cfg.Family.AppID())
		base := cmp.Or(strings.TrimRight(targetURL, "/"), "<the target's base URL>")
		c.Web = &contract.Web{ClientID: DefaultWebClientID, Secret: DefaultWebSecret,
			AuthorizationEndpoint: authz, TokenEndpoint: token, CallbackURL: base + CallbackPath}
	}
	return c, nil
}
