'use strict';
// mcaspec target: bms-mca-token-validation-strategy, MCABackendStrategy, with
// the package's server SDK (bms-mca-oauth-sdk) for /propagate and /service-call.
// Contract: docs/TARGET-CONTRACT.md. Shim (not the packages' code): ../common/contract.js.
// main(req): req is the require for the third-party packages (see ../bms-mca-resource/app.js).
const contract = require('../common/contract');

module.exports = function main(req) {
  const cfg = contract.config();

  // The strategy logs through log4js 0.6 (its default logger, level TRACE, to
  // the console). A user quiets it the log4js way: warnings and errors only
  // (LOG_LEVEL overrides). Same log4js module as the strategy's (one copy).
  req('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

  const express = req('express');
  const passport = req('passport');
  const { MCABackendStrategy } = req('bms-mca-token-validation-strategy');
  const sdk = contract.oauthSDK(cfg, req);

  // As on Bluemix: the strategy reads the app id (credentials.tenantId) and
  // the AZ serverUrl from VCAP_SERVICES itself (an entry whose name starts with
  // AdvancedMobileAccess or AppID); it takes no options for them. The {appId}
  // path segment is ignored: this target always runs in backend mode.
  passport.use(new MCABackendStrategy());

  const app = express();
  app.disable('x-powered-by');
  app.use(passport.initialize());

  contract.mount(app, {
    protect: passport.authenticate('mca-backend-strategy', { session: false }),
    securityContext: (r) => r.securityContext,
    propagateAuthorization: sdk.propagateAuthorization,
    serviceAuthorization: sdk.serviceAuthorization,
    downstream: cfg.downstream, // MCA_DOWNSTREAM_HOSTS
  });

  return contract.listen(app, cfg, 'bms-mca-backend');
};
