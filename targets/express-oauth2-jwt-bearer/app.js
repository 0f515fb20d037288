'use strict';
// mcaspec target: express-oauth2-jwt-bearer 1 (Auth0's RFC 9068 middleware)
// against App ID tokens, configured as its README configures it:
// auth({issuerBaseURL, audience}) (issuer and jwks_uri from the tenant's
// discovery document). Contract: docs/TARGET-CONTRACT.md. Shim (not the
// library's code): ../common/jwtbearer.js.
//
// main(req, {hardened}) runs it with req as the require for the third-party
// packages; hardened adds what docs/certification advises (targets/README.md).
const contract = require('../common/contract');
const jwtbearer = require('../common/jwtbearer');

module.exports = function main(req, { hardened = false } = {}) {
  const cfg = contract.config();
  const express = req('express');
  const { auth } = req('express-oauth2-jwt-bearer');

  const options = { issuerBaseURL: jwtbearer.oauthServerUrl(cfg), audience: cfg.appId };
  if (hardened) {
    Object.assign(options, {
      tokenSigningAlg: 'RS256', // the algorithm pinned (default: any asymmetric one the key allows)
      timeoutDuration: 3000, // discovery and JWKS requests (default 5 s, the harness's bound)
      // a kid the cached JWKS lacks refetches it after 2 s (default 30 s: a rotated key is refused that long)
      cooldownDuration: 2000,
      clockTolerance: 0, // exp is the end (default: 5 s more)
      // exp validated by the library's rule (a number, not past) and jwtbearer.hardenedCheck (crit, zip, exp range ...)
      validators: { exp: (exp, claims, header) => jwtbearer.hardenedCheck(header, claims) === '' && typeof exp === 'number' && exp > Date.now() / 1000 },
    });
  }
  const check = auth(options);
  // The library reads "Bearer <token>" itself and refuses a header of three
  // parts (400 invalid_request): the shim hands it the access token, then the
  // id token, as "Bearer <token>", and puts the client's header back after.
  const run = (token, property) => (r, res, next) => {
    if (!token(r)) return next();
    const original = r.headers.authorization;
    r.headers.authorization = `Bearer ${token(r)}`;
    delete r.auth;
    return check(r, res, (err) => {
      r.headers.authorization = original;
      if (err) return next(err);
      r[property] = r.auth.payload;
      return next();
    });
  };
  const claims = (r, res, next) => { r.claims = { access: r.accessClaims, id: r.idClaims }; next(); };

  return jwtbearer.run(express, {
    name: 'express-oauth2-jwt-bearer', cfg, hardened,
    verify: [run((r) => r.bearer.access, 'accessClaims'), run((r) => r.bearer.id, 'idClaims'), claims],
    isTokenError: null, // its errors carry their status and WWW-Authenticate: they are answered as they are
  });
};
