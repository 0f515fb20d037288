'use strict';
// mcaspec target: express-jwt 8 with jwks-rsa 4 against App ID tokens, configured as
// express-jwt's README configures it for an API whose keys come from a JWKS
// (secret: jwksRsa.expressJwtSecret({cache, rateLimit, jwksRequestsPerMinute,
// jwksUri}), audience, issuer, algorithms: ['RS256']). Contract:
// docs/TARGET-CONTRACT.md. Shim (not the libraries' code): ../common/jwtbearer.js.
//
// main(req, {hardened}) runs it with req as the require for the third-party
// packages; hardened adds what docs/certification advises (targets/README.md).
const contract = require('../common/contract');
const jwtbearer = require('../common/jwtbearer');

module.exports = function main(req, { hardened = false } = {}) {
  const cfg = contract.config();
  const express = req('express');
  const { expressjwt } = req('express-jwt');
  const jwksRsa = req('jwks-rsa');

  const issuer = jwtbearer.oauthServerUrl(cfg);
  const secret = jwksRsa.expressJwtSecret({
    cache: true,
    rateLimit: true,
    jwksRequestsPerMinute: 5,
    jwksUri: `${issuer}/publickeys`,
    // hardened: a JWKS request that hangs fails in 3 s (jwks-rsa's default: 30 s).
    ...(hardened ? { timeout: 3000 } : {}),
  });
  const options = { secret, audience: cfg.appId, issuer, algorithms: ['RS256'] };
  // hardened: express-jwt's isRevoked hook (it gets the decoded header and
  // payload after verification) refuses what jsonwebtoken lets through: no exp,
  // a crit header (jwtbearer.hardenedCheck).
  if (hardened) options.isRevoked = async (r, token) => jwtbearer.hardenedCheck(token.header, token.payload) !== '';
  // The shim splits "Bearer <access> <id>"; express-jwt verifies each.
  const access = expressjwt({ ...options, getToken: (r) => r.bearer.access });
  const id = expressjwt({ ...options, getToken: (r) => r.bearer.id || undefined, credentialsRequired: false, requestProperty: 'idAuth' });
  const claims = (r, res, next) => { r.claims = { access: r.auth, id: r.idAuth }; next(); };

  return jwtbearer.run(express, {
    name: 'express-jwt', cfg, hardened, verify: [access, id, claims],
    isTokenError: (e) => e && e.name === 'UnauthorizedError',
  });
};
