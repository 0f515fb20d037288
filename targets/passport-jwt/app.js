'use strict';
// mcaspec target: passport-jwt 4 with jwks-rsa 4 against App ID tokens, configured
// as jwks-rsa's README configures passport-jwt (secretOrKeyProvider:
// jwksRsa.passportJwtSecret({cache, rateLimit, jwksRequestsPerMinute, jwksUri}),
// audience, issuer, algorithms: ['RS256']). Contract: docs/TARGET-CONTRACT.md.
// Shim (not the libraries' code): ../common/jwtbearer.js.
//
// main(req, {hardened}) runs it with req as the require for the third-party
// packages; hardened adds what docs/certification advises (targets/README.md).
const contract = require('../common/contract');
const jwtbearer = require('../common/jwtbearer');

module.exports = function main(req, { hardened = false } = {}) {
  const cfg = contract.config();
  const express = req('express');
  const passport = req('passport');
  const { Strategy: JwtStrategy } = req('passport-jwt');
  const jwksRsa = req('jwks-rsa');

  const issuer = jwtbearer.oauthServerUrl(cfg);
  const options = {
    secretOrKeyProvider: jwksRsa.passportJwtSecret({
      cache: true,
      rateLimit: true,
      jwksRequestsPerMinute: 5,
      jwksUri: `${issuer}/publickeys`,
      // hardened: a JWKS request that hangs fails in 3 s (jwks-rsa's default: 30 s).
      ...(hardened ? { timeout: 3000 } : {}),
    }),
    audience: cfg.appId,
    issuer,
    algorithms: ['RS256'],
  };
  // The verify callback accepts the verified payload as the user. hardened:
  // jsonwebtoken's complete result (header and payload) goes through
  // jwtbearer.hardenedCheck (no exp, a crit header ...) first.
  let verify = (payload, done) => done(null, payload);
  if (hardened) {
    options.jsonWebTokenOptions = { complete: true };
    verify = (t, done) => {
      const why = jwtbearer.hardenedCheck(t.header, t.payload);
      return why ? done(null, false, new Error(why)) : done(null, t.payload);
    };
  }
  // The shim splits "Bearer <access> <id>"; one strategy per token.
  passport.use('jwt', new JwtStrategy({ ...options, jwtFromRequest: (r) => r.bearer.access }, verify));
  passport.use('jwt-id', new JwtStrategy({ ...options, jwtFromRequest: (r) => r.bearer.id }, verify));
  // failWithError: passport hands the refusal to the shim's error handler (the
  // RFC 6750 challenge); by default it answers a bare 401 without WWW-Authenticate.
  const opts = { session: false, failWithError: true };
  const access = passport.authenticate('jwt', opts);
  const id = (r, res, next) => (r.bearer.id ? passport.authenticate('jwt-id', { ...opts, assignProperty: 'idAuth' })(r, res, next) : next());
  const claims = (r, res, next) => { r.claims = { access: r.user, id: r.idAuth }; next(); };

  return jwtbearer.run(express, {
    name: 'passport-jwt', cfg, hardened, verify: [passport.initialize(), access, id, claims],
    isTokenError: (e) => e && e.name === 'AuthenticationError',
  });
};
