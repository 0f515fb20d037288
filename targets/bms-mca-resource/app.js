'use strict';
// mcaspec target: bms-mca-token-validation-strategy, MCAResourceStrategy, with
// the package's server SDK (bms-mca-oauth-sdk) for /propagate and /service-call.
// Contract: docs/TARGET-CONTRACT.md. Shim (not the packages' code): ../common/contract.js.
//
// main(req) runs the target with req as the require for the third-party
// packages, so that a folder of another version (targets/versions/…) runs
// this same code on its own node_modules: server.js is require('./app')(require).
const contract = require('../common/contract');

module.exports = function main(req) {
  const cfg = contract.config();

  // The strategy logs through log4js 0.6 (its default logger, level TRACE, to
  // the console). A user quiets it the log4js way: warnings and errors only
  // (LOG_LEVEL overrides). This is the same log4js module the strategy loads
  // (package.json pins the range it accepts, so npm installs one copy).
  req('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

  const express = req('express');
  const passport = req('passport');
  const { MCAResourceStrategy } = req('bms-mca-token-validation-strategy');
  // bms-mca-oauth-sdk 3.0.5 (MCA_OAUTH_SDK=imf-oauth-user-sdk: imf-oauth-user-sdk 1.0.4).
  const sdk = contract.oauthSDK(cfg, req);

  // serverUrl is a required option of the resource strategy (it does not read
  // VCAP_SERVICES). The app id comes from the first GUID of the request URL
  // (the strategy's own FilterUtil.getAppIdFromUrl on req.originalUrl), or,
  // in backend mode, from the appId option.
  passport.use(new MCAResourceStrategy({
    serverUrl: cfg.serverUrl,
    appId: cfg.backend ? cfg.appId : undefined,
  }));

  const app = express();
  app.disable('x-powered-by');
  app.use(passport.initialize());

  contract.mount(app, {
    protect: passport.authenticate('mca-resource-strategy', { session: false }),
    // The strategy puts the security context on req.securityContext.
    securityContext: (r) => r.securityContext,
    propagateAuthorization: sdk.propagateAuthorization,
    serviceAuthorization: sdk.serviceAuthorization,
    downstream: cfg.downstream, // MCA_DOWNSTREAM_HOSTS
  });

  return contract.listen(app, cfg, 'bms-mca-resource');
};
