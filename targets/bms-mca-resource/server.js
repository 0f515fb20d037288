'use strict';
// mcaspec target: bms-mca-token-validation-strategy@2.0.11, MCAResourceStrategy.
// Contract: docs/TARGET-CONTRACT.md. Shim (not the package's code): ../common/contract.js.
const contract = require('../common/contract');

const cfg = contract.config();

// The strategy logs through log4js 0.6 (its default logger, level TRACE, to
// the console). A user quiets it the log4js way: warnings and errors only
// (LOG_LEVEL overrides). This is the same log4js module the strategy loads
// (package.json pins the range it accepts, so npm installs one copy).
require('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

const express = require('express');
const passport = require('passport');
const { MCAResourceStrategy } = require('bms-mca-token-validation-strategy');

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
  securityContext: (req) => req.securityContext,
  // bms-mca-oauth-sdk (the package's server SDK) does not install on Node 20
  // (its native x509 addon fails to build): getAuthorizationHeader() by hand.
  serviceAuthorization: contract.tokenCache(contract.clientCredentials(cfg.serverUrl, cfg.appId, cfg.clientId, cfg.secret)),
  downstream: cfg.downstream, // MCA_DOWNSTREAM_HOSTS
});

contract.listen(app, cfg, 'bms-mca-resource');
