'use strict';
// mcaspec web target: bms-mca-token-validation-strategy 2.0.11, MCAWebSiteStrategy
// (the authorization-code flow for websites), with express-session and passport,
// wired as the strategy's code expects. Contract: docs/TARGET-CONTRACT.md
// ("Web sign-in targets"). Shim (not the packages' code): ../common/contract.js.
// main(req): req is the require for the third-party packages.
const crypto = require('crypto');
const contract = require('../common/contract');

module.exports = function main(req) {
  const cfg = contract.config();
  req('log4js').setGlobalLogLevel(cfg.logLevel.toUpperCase());

  const express = req('express');
  const session = req('express-session');
  const passport = req('passport');
  const { MCAWebSiteStrategy } = req('bms-mca-token-validation-strategy');

  // The strategy reads clientId, secret, authorizationEndpoint and
  // tokenEndpoint from VCAP_SERVICES itself (the harness puts them there);
  // callbackUrl is an option.
  const callbackUrl = (process.env.MCA_CALLBACK_URL || '').trim();
  if (!callbackUrl) throw new Error('MCA_CALLBACK_URL is required (the web target contract)');
  passport.use(new MCAWebSiteStrategy({ callbackUrl }));
  MCAWebSiteStrategy.setup(passport); // serializeUser / deserializeUser as the package ships them

  const app = express();
  app.disable('x-powered-by');
  app.use(session({
    secret: process.env.SESSION_SECRET || crypto.randomBytes(32).toString('hex'),
    resave: false,
    saveUninitialized: true, // the strategy keeps the first page in req.session before the sign-in
    cookie: { httpOnly: true, sameSite: 'lax' },
  }));
  app.use(passport.initialize());
  app.use(passport.session());

  app.get('/healthz', (r, res) => contract.sendJSON(res, 200, { status: 'ok' }));
  const protect = passport.authenticate(MCAWebSiteStrategy.NAME);
  const show = (r, res) => contract.sendJSON(res, 200, { user: r.user });
  contract.protectWeb(app, express, protect, show);
  // On failure passport answers 401 (no failureRedirect); on success, back to
  // the page the strategy remembered.
  app.get('/web/callback', passport.authenticate(MCAWebSiteStrategy.NAME, { isOAuthCallback: true }), (r, res) => {
    res.redirect(r.session.originalUrl || '/web/protected');
  });
  app.get('/web/logout', (r, res) => {
    r.logout();
    r.session.destroy(() => contract.sendJSON(res, 200, { status: 'signed out' }));
  });

  return contract.listen(app, cfg, 'bms-mca-website');
};
