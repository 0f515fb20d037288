'use strict';
// mcaspec target: jose 6 (jwtVerify) against App ID tokens, configured as jose's
// README configures it (createRemoteJWKSet(new URL(jwksUri)) and jwtVerify(jwt,
// JWKS, {issuer, audience})), and against MCA tokens with a key function over
// the app's publickey (mode 'mca'). Contract: docs/TARGET-CONTRACT.md. Shim
// (not the library's code): ../common/jwtbearer.js.
//
// main(req, {hardened, mode}) runs it with req as the require for jose;
// hardened adds what docs/certification advises (targets/README.md).
const contract = require('../common/contract');
const jwtbearer = require('../common/jwtbearer');

// KEY_TTL_MS / UNKNOWN_APP_TTL_MS: how long the MCA key function keeps an app's
// key (the MCA strategy's 10 min) and an app the AZ does not know (404).
const KEY_TTL_MS = 10 * 60 * 1000;
const UNKNOWN_APP_TTL_MS = 60 * 1000;
const KEY_FETCH_TIMEOUT_MS = 3000;

// mcaKeys is the key function of the MCA configuration: the app's key from
// {serverUrl}/authorization/v1/apps/{appId}/publickey ({kty, n, e}: one RSA
// JWK, no kid, as MCA tokens carry none), imported for RS256, kept per app.
function mcaKeys(jose, cfg) {
  const cache = new Map(); // appId -> {until, key | unknown, pending}
  async function fetchKey(appId) {
    const url = `${cfg.serverUrl}/authorization/v1/apps/${encodeURIComponent(appId)}/publickey`;
    const r = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(KEY_FETCH_TIMEOUT_MS) });
    const text = await r.text();
    if (r.status === 404) return { unknown: true, until: Date.now() + UNKNOWN_APP_TTL_MS };
    if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
    const jwk = JSON.parse(text);
    if (jwk === null || typeof jwk !== 'object' || jwk.kty !== 'RSA') throw new Error(`${url}: not an RSA JWK`);
    // jose checks the modulus (2048 bits at least for RS256) but takes any exponent:
    // with e = 1 a "signature" equal to the padded digest verifies, so anyone could sign.
    if (jwk.e !== 'AQAB') throw new Error(`${url}: RSA exponent ${jwk.e}, want 65537 (AQAB)`);
    return { key: await jose.importJWK({ kty: 'RSA', n: jwk.n, e: jwk.e }, 'RS256'), until: Date.now() + KEY_TTL_MS };
  }
  return async function keyFor(appId) {
    let e = cache.get(appId);
    if (!e || (!e.pending && Date.now() >= e.until)) {
      const pending = fetchKey(appId).then((v) => { cache.set(appId, v); return v; }, (err) => { cache.delete(appId); throw err; });
      e = { pending };
      cache.set(appId, e);
    }
    const v = e.pending ? await e.pending : e;
    if (v.unknown) throw new jose.errors.JWKSNoMatchingKey(`the AZ knows no app ${appId}`);
    return v.key;
  };
}

module.exports = function main(req, { hardened = false, mode = 'appid' } = {}) {
  const cfg = contract.config();
  const express = req('express');
  const jose = req('jose');

  let keyFor;
  let options;
  if (mode === 'mca') {
    keyFor = mcaKeys(jose, cfg);
    options = (appId) => ({ issuer: jwtbearer.mcaIssuer(cfg), audience: appId });
  } else {
    const issuer = jwtbearer.oauthServerUrl(cfg);
    // hardened: a JWKS request that hangs fails in 3 s (jose's default: 5 s, the
    // harness's bound), and a kid the cached JWKS lacks refetches it after 2 s
    // (default 30 s: a rotated key is refused that long).
    const JWKS = jose.createRemoteJWKSet(new URL(`${issuer}/publickeys`), hardened ? { timeoutDuration: 3000, cooldownDuration: 2000 } : {});
    keyFor = () => JWKS;
    options = (appId) => ({ issuer, audience: appId });
  }
  async function verifyOne(token, appId) {
    const key = keyFor(appId);
    const o = options(appId);
    // hardened: the algorithm pinned (jose's default: whatever the key allows).
    if (hardened) o.algorithms = ['RS256'];
    const { payload, protectedHeader } = await jose.jwtVerify(token, typeof key === 'function' ? key : await key, o);
    const why = hardened ? jwtbearer.hardenedCheck(protectedHeader, payload) : '';
    if (why) throw new jose.errors.JWTInvalid(why);
    return payload;
  }
  async function verify(r, res, next) {
    try {
      const appId = mode === 'mca' && !cfg.backend ? contract.appIdFromPath(r.path) : cfg.appId;
      if (!appId) return contract.sendError(res, 400, 'invalid_request', 'no app id: the path has no GUID and MCA_MODE is not backend');
      const access = await verifyOne(r.bearer.access, appId);
      const id = r.bearer.id ? await verifyOne(r.bearer.id, appId) : undefined;
      r.claims = { access, id };
      return next();
    } catch (e) {
      return next(e);
    }
  }

  return jwtbearer.run(express, {
    name: mode === 'mca' ? 'jose-mca' : 'jose', cfg, hardened, family: mode, verify: [verify],
    // A JWKS that cannot be fetched in time is the AZ's failure (500), not the token's.
    isTokenError: (e) => e instanceof jose.errors.JOSEError && !(e instanceof jose.errors.JWKSTimeout),
  });
};
