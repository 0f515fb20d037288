'use strict';
// mcaspec target: ibmcloud-appid, APIStrategy (the successor of the MCA strategies).
// Contract: docs/TARGET-CONTRACT.md. Shim (not the package's code): ../common/contract.js.
//
// main(req, pkg) runs the target with req as the require for the third-party
// packages and pkg the SDK's package name (default ibmcloud-appid; bluemix-appid
// is its earlier name), so that a folder of another version (targets/versions/…)
// runs this same code on its own node_modules.
const contract = require('../common/contract');
const { appIdContext } = require('../common/jwtbearer');

module.exports = function main(req, pkg = 'ibmcloud-appid') {
  const cfg = contract.config();

  const express = req('express');
  const passport = req('passport');
  const { APIStrategy, TokenManager } = req(pkg);

  // The SDK logs through log4js 6 and, when it is loaded, configures log4js
  // itself at level INFO to the console (its log4js.json; unless LOG4JS_CONFIG
  // is set). A user re-configures log4js after requiring it: warnings and
  // errors only, to stderr (LOG_LEVEL overrides). The SDK's one "Initialized"
  // line at load time still shows.
  // (log4js 1.x, in the oldest versions, takes another shape: its default
  // console logging at INFO stays.)
  try {
    req('log4js').configure({
      appenders: { err: { type: 'stderr' } },
      categories: { default: { appenders: ['err'], level: cfg.logLevel } },
    });
  } catch (e) {
    console.error(`${pkg}: log4js not re-configured (${e.message})`);
  }

  // App ID's oauthServerUrl is {endpoint}/oauth/v4/{tenantId}. At fakeaz an App
  // ID profile app serves it at {serverUrl}/oauth/v4/{appId} (fakeaz/README.md);
  // APPID_OAUTH_SERVER_URL overrides.
  const oauthServerUrl = (process.env.APPID_OAUTH_SERVER_URL || `${cfg.serverUrl}/oauth/v4/${cfg.appId}`).replace(/\/+$/, '');
  // The SDK's config loader reads VCAP_APPLICATION.application_uris[0] to build a
  // redirectUri unless one is given, and throws on the contract's
  // VCAP_APPLICATION (which has only application_id). An API strategy never
  // redirects, so any value will do.
  const redirectUri = 'http://127.0.0.1/ibm/bluemix/appid/callback';

  passport.use(new APIStrategy({ oauthServerUrl, redirectUri }));

  // The APIStrategy checks the audience only when asked (authenticate option
  // "audience": must be in the token's aud array). The app id is the first GUID
  // of the path (resource mode) or MCA_APP_ID (backend mode).
  function protect(req, res, next) {
    const audience = cfg.backend ? cfg.appId : contract.appIdFromPath(req.path);
    if (!audience) {
      return contract.sendError(res, 400, 'invalid_request', 'no app id: the path has no GUID and MCA_MODE is not backend');
    }
    return passport.authenticate(APIStrategy.STRATEGY_NAME || 'appid-api-strategy', { session: false, audience })(req, res, next);
  }

  // The strategy puts the validated tokens on req.appIdAuthorizationContext
  // ({accessToken, accessTokenPayload, identityToken?, identityTokenPayload?})
  // and the id token payload on req.user. Mapped onto the MCA security context
  // as every App ID target maps it (../common/jwtbearer.js):
  function securityContext(req) {
    const ctx = req.appIdAuthorizationContext || {};
    return appIdContext(ctx.accessTokenPayload || {}, ctx.identityTokenPayload);
  }

  // The SDK's own TokenManager.getApplicationIdentityToken() gets the service
  // token (POST {oauthServerUrl}/token, client credentials; it then validates
  // the token's signature, iss and aud). It neither caches nor times out: the
  // shim does both.
  let tokenManager = null;
  function fetchServiceToken() {
    if (!tokenManager) {
      if (typeof TokenManager !== 'function') throw new Error(`${pkg} has no TokenManager in this version (added in 4.2): no service token`);
      if (!cfg.clientId || !cfg.secret) throw new Error('MCA_CLIENT_ID and MCA_SECRET are needed for a service token');
      tokenManager = new TokenManager({ clientId: cfg.clientId, secret: cfg.secret, oauthServerUrl, redirectUri });
    }
    return tokenManager.getApplicationIdentityToken();
  }

  const app = express();
  app.disable('x-powered-by');
  app.use(passport.initialize());

  contract.mount(app, { protect, securityContext, serviceAuthorization: contract.tokenCache(fetchServiceToken), downstream: cfg.downstream });

  return contract.listen(app, cfg, pkg);
};
