'use strict';
// mcaspec web target: ibmcloud-appid 7.0.0, WebAppStrategy (App ID's sign-in
// for websites), with express-session and passport 0.6, wired as App ID's
// sample does. Contract: docs/TARGET-CONTRACT.md ("Web sign-in targets"), run
// with --family web-appid (an App ID tenant at fakeaz). Shim (not the
// package's code): ../common/contract.js.
const crypto = require('crypto');
const contract = require('../common/contract');

// pkg is the package name: ibmcloud-appid, or bluemix-appid (its earlier name)
// for the version matrix's oldest folder.
module.exports = function main(req, pkg = 'ibmcloud-appid') {
  const cfg = contract.config();
  try {
    req('log4js').configure({
      appenders: { err: { type: 'stderr' } },
      categories: { default: { appenders: ['err'], level: cfg.logLevel } },
    });
  } catch (e) {
    console.error(`ibmcloud-appid: log4js not re-configured (${e.message})`);
  }

  const express = req('express');
  const session = req('express-session');
  const passport = req('passport');
  const { WebAppStrategy } = req(pkg);

  const env = (k) => (process.env[k] || '').trim();
  const oauthServerUrl = (env('APPID_OAUTH_SERVER_URL') || `${cfg.serverUrl}/oauth/v4/${cfg.appId}`).replace(/\/+$/, '');
  const redirectUri = env('MCA_CALLBACK_URL');
  if (!redirectUri) throw new Error('MCA_CALLBACK_URL is required (the web target contract)');
  passport.use(new WebAppStrategy({
    tenantId: cfg.appId,
    clientId: env('MCA_WEB_CLIENT_ID'),
    secret: env('MCA_WEB_SECRET'),
    oauthServerUrl,
    redirectUri,
  }));
  passport.serializeUser((user, cb) => cb(null, user));
  passport.deserializeUser((obj, cb) => cb(null, obj));

  const app = express();
  app.disable('x-powered-by');
  app.use(session({
    secret: env('SESSION_SECRET') || crypto.randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: true,
    cookie: { httpOnly: true, sameSite: 'lax' },
  }));
  app.use(passport.initialize());
  app.use(passport.session());

  app.get('/healthz', (r, res) => contract.sendJSON(res, 200, { status: 'ok' }));
  // passport 0.6 regenerates the session on every success(), and
  // WebAppStrategy calls success() on every request of a signed-in browser:
  // without keepSessionInfo here too, the next request finds an empty session.
  const protect = passport.authenticate(WebAppStrategy.STRATEGY_NAME, { keepSessionInfo: true });
  const show = (r, res) => contract.sendJSON(res, 200, { user: r.user });
  contract.protectWeb(app, express, protect, show);
  // passport 0.6 regenerates the session at sign-in; without keepSessionInfo
  // it drops the session's returnTo and the strategy's state with it, and the
  // sign-in loops (App ID's own samples add it).
  app.get('/web/callback', passport.authenticate(WebAppStrategy.STRATEGY_NAME, { keepSessionInfo: true, failWithError: true }));
  // WebAppStrategy.logout(req) calls req.logout() without the callback
  // passport 0.6 requires (it throws): what it does, by hand. Before 0.6
  // req.logout() is synchronous and takes no callback.
  app.get('/web/logout', (r, res, next) => {
    for (const k of ['returnTo', WebAppStrategy.AUTH_CONTEXT, WebAppStrategy.STATE_PARAMETER]) if (k) delete r.session[k];
    const done = (err) => (err ? next(err) : r.session.destroy(() => contract.sendJSON(res, 200, { status: 'signed out' })));
    if (r.logout.length > 0) r.logout(done);
    else { r.logout(); done(); }
  });
  // failWithError changes nothing for a refused sign-in: WebAppStrategy sets
  // failureRedirect to "/" when none is given, so passport redirects there
  // (a 302, never the 401 failWithError would give). This handler answers what
  // is thrown or passed to next(err) (a 500 unless the error names a 4xx).
  app.use((err, r, res, next) => {
    if (res.headersSent) return next(err);
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    return contract.sendError(res, status, status === 401 ? 'sign_in_failed' : 'server_error', err.message || String(err));
  });

  return contract.listen(app, cfg, 'ibmcloud-appid-webapp');
};
