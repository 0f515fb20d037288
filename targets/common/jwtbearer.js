'use strict';
// Shim shared by the targets of the generic JWT libraries (express-jwt,
// passport-jwt, jose, express-oauth2-jwt-bearer): what the target contract
// asks for and none of these libraries does. Built-ins and ./contract only.
//
// - The header. IBM's client SDKs send "Authorization: Bearer <access> <id>";
//   the libraries read one token after "Bearer" (express-jwt and passport-jwt
//   refuse a header of three parts). parseBearer splits it as the reference
//   does (RFC 6750 b64token; scheme case-insensitive; spaces and tabs) and
//   each target hands the access token, then the id token, to its library.
// - The answer to a refusal. The libraries throw or call back an error; the
//   shim answers an error the library raises for a token 401 with
//   WWW-Authenticate: Bearer realm="imfAuthentication", error="invalid_token"
//   (the challenge the IBM client SDKs answer), anything else 500.
// - The security context, built from the verified claims as a service would.

const contract = require('./contract');

const REALM = 'imfAuthentication';
// The reference's b64token set: '=' anywhere, so a padded segment reaches the library.
const B64TOKEN = /^[A-Za-z0-9\-._~+/=]+$/;
const MAX_HEADER = 16 << 10;

// challenge answers status with a Bearer challenge (error may be '') and a
// JSON body {error, error_description}.
function challenge(res, status, error, description) {
  let v = `Bearer realm="${REALM}"`;
  if (error) v += `, error="${error}"`;
  res.setHeader('WWW-Authenticate', v);
  contract.sendError(res, status, error || 'unauthorized', description);
}

// parseBearer parses one Authorization header value. It returns
// {access, id} (id '' when absent) or {status, error, description}.
function parseBearer(h) {
  if (h === undefined) return { status: 401, error: '', description: 'no Authorization header' };
  if (h.length > MAX_HEADER) return { status: 400, error: 'invalid_request', description: 'Authorization header too long' };
  if (/[\x00-\x08\x0a-\x1f\x7f-\uffff]/.test(h)) return { status: 400, error: 'invalid_request', description: 'Authorization header contains control or non-ASCII characters' };
  const parts = h.split(/[ \t]+/).filter((p) => p !== '');
  if (parts.length === 0) return { status: 401, error: '', description: 'empty Authorization header' };
  if (parts[0].toLowerCase() !== 'bearer') return { status: 401, error: '', description: 'Authorization scheme is not Bearer' };
  if (parts.length === 1) return { status: 400, error: 'invalid_request', description: 'Bearer with no token' };
  if (parts.length > 3) return { status: 400, error: 'invalid_request', description: 'more than two tokens after Bearer' };
  if (!parts.slice(1).every((t) => B64TOKEN.test(t))) return { status: 400, error: 'invalid_request', description: 'token contains characters outside the RFC 6750 b64token set' };
  return { access: parts[1], id: parts[2] || '' };
}

// bearer is the first middleware of every protected route: it puts
// {access, id} on req.bearer or answers the contract's refusal. Two
// Authorization lines, or a token in the header and in the access_token
// query parameter, are refused (RFC 6750 §2: one method per request).
function bearer(req, res, next) {
  let n = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i].toLowerCase() === 'authorization') n++;
  if (n > 1) return challenge(res, 400, 'invalid_request', 'more than one Authorization header');
  if (req.query && req.query.access_token !== undefined) return challenge(res, 400, 'invalid_request', 'a token in the access_token query parameter as well');
  const p = parseBearer(req.headers.authorization);
  if (p.status) return challenge(res, p.status, p.error, p.description);
  req.bearer = p;
  return next();
}

// errorHandler is the Express error middleware after the library's: an error
// isTokenError(err) says the library raised for the token → 401
// invalid_token; anything else (a key fetch that failed, a bug) → 500. A
// library that shapes its own refusals (status, headers) is answered with
// them when isTokenError is null.
function errorHandler(isTokenError) {
  // eslint-disable-next-line no-unused-vars
  return (err, req, res, next) => {
    if (res.headersSent) return res.destroy();
    if (!isTokenError && err && Number.isInteger(err.status) && err.status >= 400 && err.status < 500) {
      for (const [k, v] of Object.entries(err.headers || {})) res.setHeader(k, v);
      return contract.sendError(res, err.status, err.code || 'invalid_request', err.message || '');
    }
    if (!isTokenError) isTokenError = () => false; // eslint-disable-line no-param-reassign
    if (isTokenError(err)) return challenge(res, 401, 'invalid_token', String((err && err.message) || err));
    return contract.sendError(res, 500, 'server_error', `token validation failed: ${contract.errorText(err)}`);
  };
}

function firstIdentity(i) {
  return Array.isArray(i.identities) && i.identities.length > 0 ? i.identities[0] : null;
}

// appIdContext maps App ID claims onto the MCA security context, as the
// ibmcloud-appid target does: imf.sub = id token sub (access token sub without
// an id token), imf.user from identities[0] and name, imf.device /
// imf.application from the id token's oauth_client.
function appIdContext(a, i) {
  if (!i) return { 'imf.sub': a.sub, 'imf.user': {}, 'imf.device': {}, 'imf.application': {} };
  const id0 = firstIdentity(i);
  const oc = i.oauth_client || null;
  return {
    'imf.sub': i.sub,
    'imf.user': id0 ? { id: id0.id, authBy: id0.provider, displayName: i.name, attributes: id0.attributes || null } : {},
    'imf.device': oc ? { id: oc.device_id, platform: oc.device_os, model: oc.device_model, osVersion: oc.device_os_version } : {},
    'imf.application': oc ? { id: oc.software_id, version: oc.software_version } : {},
  };
}

// mcaContext is the MCA strategy's req.securityContext: the id token's sub and
// imf.* objects, or the access token's prn and {} without an id token.
function mcaContext(a, i) {
  if (!i) return { 'imf.sub': a.prn, 'imf.user': {}, 'imf.device': {}, 'imf.application': {} };
  return { 'imf.sub': i.sub, 'imf.user': i['imf.user'] || {}, 'imf.device': i['imf.device'] || {}, 'imf.application': i['imf.application'] || {} };
}

// pairedSub reports whether the id token belongs to the access token's client:
// its sub ends with ":" + the access token's sub (App ID) or prn (MCA).
function pairedSub(a, i) {
  const client = a.prn !== undefined ? a.prn : a.sub;
  return typeof i.sub === 'string' && typeof client === 'string' && client !== '' && i.sub.endsWith(`:${client}`);
}

// MAX_SAFE_EXP: an exp beyond 2^53 s cannot be compared exactly as a number.
const MAX_SAFE_EXP = Number.MAX_SAFE_INTEGER;

// hardenedCheck is what the hardened configurations add after the library's
// verification (docs/certification, "Advice"): it returns why a verified
// token must still be refused, or '' to accept. header and payload are the
// decoded JOSE header and claims.
function hardenedCheck(header, payload) {
  if (header && header.crit !== undefined) return 'crit header: no extension is understood (RFC 7515 §4.1.11)';
  if (header && (header.zip !== undefined || header.b64 !== undefined)) return 'zip or b64 in a JWS header: not used by the AZ (RFC 7515 §4.1, RFC 7797)';
  if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) return 'the payload is not a JSON object of claims';
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp) || payload.exp > MAX_SAFE_EXP) return 'exp is missing or not a usable NumericDate';
  if (payload.iat !== undefined && typeof payload.iat !== 'number') return 'iat is not a NumericDate';
  return '';
}

// oauthServerUrl is the App ID tenant's URL at fakeaz ({serverUrl}/oauth/v4/{appId});
// APPID_OAUTH_SERVER_URL overrides.
function oauthServerUrl(cfg) {
  return (process.env.APPID_OAUTH_SERVER_URL || `${cfg.serverUrl}/oauth/v4/${cfg.appId}`).replace(/\/+$/, '');
}

// mcaIssuer is the iss of MCA tokens (MCA_ISSUER, default {serverUrl}/authorization/).
function mcaIssuer(cfg) {
  return (process.env.MCA_ISSUER || '').trim() || `${cfg.serverUrl}/authorization/`;
}

// postToken does one client-credentials request (Basic auth, form body) and
// resolves {accessToken, expiresIn}.
async function postToken(url, cfg) {
  if (!cfg.clientId || !cfg.secret) throw new Error('MCA_CLIENT_ID and MCA_SECRET are needed for a service token');
  const r = await fetch(url, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${cfg.clientId}:${cfg.secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'grant_type=client_credentials',
    redirect: 'manual',
    signal: AbortSignal.timeout(contract.TOKEN_TIMEOUT_MS),
  });
  const text = await r.text();
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${text.slice(0, 200)}`);
  const j = JSON.parse(text);
  return { accessToken: j.access_token, expiresIn: j.expires_in };
}

// serviceAuthorization is the contract's /service-call token, cached until
// shortly before it expires (contract.tokenCache): App ID's {oauthServerUrl}/token,
// or MCA's {serverUrl}/authorization/v1/apps/{appId}/token.
function serviceAuthorization(cfg, family) {
  const url = family === 'mca' ? `${cfg.serverUrl}/authorization/v1/apps/${cfg.appId}/token` : `${oauthServerUrl(cfg)}/token`;
  return contract.tokenCache(() => postToken(url, cfg));
}

// run serves the contract with protect = [bearer, ...verify] and the context
// from req.claims = {access, id} (id undefined without an id token) that the
// target's verify middleware sets. options.hardened adds the id token pairing
// check; family is 'appid' (default) or 'mca'.
function run(express, { name, cfg, verify, isTokenError, family = 'appid', hardened = false }) {
  const toContext = family === 'mca' ? mcaContext : appIdContext;
  const pairing = (req, res, next) => {
    const { access, id } = req.claims;
    if (hardened && id && !pairedSub(access, id)) return challenge(res, 401, 'invalid_token', 'the id token belongs to another client');
    return next();
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  contract.mount(app, {
    protect: [bearer, ...verify, pairing],
    securityContext: (req) => toContext(req.claims.access, req.claims.id),
    serviceAuthorization: serviceAuthorization(cfg, family),
    downstream: cfg.downstream,
  });
  app.use(errorHandler(isTokenError));
  console.error(`${name}: ${hardened ? 'hardened' : 'as documented'} configuration, ${family} tokens`);
  return contract.listen(app, cfg, name);
}

module.exports = {
  REALM, parseBearer, hardenedCheck, bearer, challenge, errorHandler, appIdContext, mcaContext, pairedSub, oauthServerUrl, mcaIssuer, serviceAuthorization, run,
};
