'use strict';
// mcaspec target: bms-mca-token-validation-strategy@2.0.11, MCABackendStrategy.
// Contract: docs/TARGET-CONTRACT.md. Shim (not the package's code): ../common/contract.js.
const contract = require('../common/contract');

const cfg = contract.config();

// The strategy logs through log4js 0.6 (its default logger, level TRACE, to
// the console). A user quiets it the log4js way: warnings and errors only
// (LOG_LEVEL overrides). Same log4js module as the strategy's (one copy).
require('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

const express = require('express');
const passport = require('passport');
const { MCABackendStrategy } = require('bms-mca-token-validation-strategy');

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
  securityContext: (req) => req.securityContext,
  // bms-mca-oauth-sdk does not install on Node 20: getAuthorizationHeader() by hand.
  serviceAuthorization: contract.tokenCache(contract.clientCredentials(cfg.serverUrl, cfg.appId, cfg.clientId, cfg.secret)),
  downstream: cfg.downstream, // MCA_DOWNSTREAM_HOSTS
});

contract.listen(app, cfg, 'bms-mca-backend');
