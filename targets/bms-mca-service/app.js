'use strict';
// mcaspec target: bms-mca-token-validation-strategy, MCAServiceStrategy, with
// the package's server SDK (bms-mca-oauth-sdk) for /propagate and /service-call.
// Contract: docs/TARGET-CONTRACT.md. Shim (not the packages' code): ../common/contract.js.
// main(req): req is the require for the third-party packages (see ../bms-mca-resource/app.js).
//
// The strategy takes no options that matter: it reads the AZ URL from the
// environment variable imfServiceUrl on every request (and throws at
// construction when it is unset) and the app id from the first GUID of the
// request URL. Resource mode only: there is no fixed app id.
//
// Found while studying it: when the URL has no GUID it calls this.fail(400)
// and does not return, so it validates anyway (appId null) and fails a second
// time; passport writes the second answer after the first has ended and Node
// kills the process (ERR_STREAM_WRITE_AFTER_END). This target does not guard
// against that: the harness sees what a user of the package would get.
const contract = require('../common/contract');

module.exports = function main(req) {
  const cfg = contract.config();
  if (cfg.backend) {
    throw new Error('MCA_MODE=backend: MCAServiceStrategy takes the app id from the URL only (resource mode); certify it without --fixed-app-id');
  }
  // As the package's README asks: the AZ URL in imfServiceUrl. The contract's
  // MCA_SERVER_URL wins over an inherited imfServiceUrl (MCA_* win, as everywhere).
  process.env.imfServiceUrl = cfg.serverUrl;

  req('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

  const express = req('express');
  const passport = req('passport');
  const { MCAServiceStrategy } = req('bms-mca-token-validation-strategy');
  const sdk = contract.oauthSDK(cfg, req);

  passport.use(new MCAServiceStrategy());

  const app = express();
  app.disable('x-powered-by');
  app.use(passport.initialize());

  contract.mount(app, {
    protect: passport.authenticate('mca-service-strategy', { session: false }),
    securityContext: (r) => r.securityContext,
    propagateAuthorization: sdk.propagateAuthorization,
    serviceAuthorization: sdk.serviceAuthorization,
    downstream: cfg.downstream, // MCA_DOWNSTREAM_HOSTS
  });

  return contract.listen(app, cfg, 'bms-mca-service');
};
