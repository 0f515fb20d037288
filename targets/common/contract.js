'use strict';
// Shim shared by the npm targets: everything the target contract
// (docs/TARGET-CONTRACT.md) asks for that is not the strategy's own job.
// It uses Node built-ins only, so each target's own node_modules (express,
// passport, the strategy) stay the only third-party code.

const http = require('http');
const net = require('net');

const DOWNSTREAM_TIMEOUT_MS = 10000; // per downstream GET, as the reference
const TOKEN_TIMEOUT_MS = 10000; // per service-token request
const BODY_EXCERPT_BYTES = 4096;
const GUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

function parseJSONEnv(name) {
  const v = process.env[name];
  if (!v) return {};
  try {
    return JSON.parse(v);
  } catch (e) {
    throw new Error(`${name} is not valid JSON: ${e.message}`);
  }
}

// config reads the contract's environment; explicit MCA_* values win over VCAP_*.
function config() {
  const vs = parseJSONEnv('VCAP_SERVICES');
  const va = parseJSONEnv('VCAP_APPLICATION');
  let creds = {};
  for (const name of Object.keys(vs)) {
    if ((name.startsWith('AdvancedMobileAccess') || name.startsWith('AppID')) && Array.isArray(vs[name]) && vs[name].length > 0) {
      creds = vs[name][0].credentials || {};
      break;
    }
  }
  const env = (k) => (process.env[k] || '').trim();
  const c = {
    port: Number.parseInt(env('PORT'), 10),
    serverUrl: (env('MCA_SERVER_URL') || creds.serverUrl || '').replace(/\/+$/, ''),
    appId: env('MCA_APP_ID') || creds.tenantId || va.application_id || '',
    clientId: env('MCA_CLIENT_ID') || creds.clientId || '',
    secret: env('MCA_SECRET') || creds.secret || '',
    backend: env('MCA_MODE') === 'backend',
    logLevel: env('LOG_LEVEL') || 'warn',
  };
  if (!Number.isInteger(c.port) || c.port <= 0 || c.port > 65535) {
    throw new Error('PORT must be a TCP port number (the target listens on 127.0.0.1:$PORT)');
  }
  if (!c.serverUrl) throw new Error('MCA_SERVER_URL (or VCAP_SERVICES credentials.serverUrl) is required');
  return c;
}

// appIdFromPath is the resource-mode app id: the first GUID of the path.
function appIdFromPath(path) {
  const m = GUID_RE.exec(path || '');
  return m ? m[0] : null;
}

function sendJSON(res, status, obj) {
  const b = Buffer.from(JSON.stringify(obj));
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', b.length);
  res.end(b);
}

function sendError(res, status, error, description) {
  sendJSON(res, status, { error, error_description: description });
}

// checkTo validates the to parameter: an http URL on a loopback host.
function checkTo(to) {
  if (typeof to !== 'string' || to === '') return { error: 'to is required: a loopback http URL, e.g. http://127.0.0.1:9001/echo' };
  let u;
  try {
    u = new URL(to);
  } catch (e) {
    return { error: `to ${JSON.stringify(to)} is not a URL; use a loopback http URL` };
  }
  if (u.protocol !== 'http:') return { error: `to must be an http URL (got ${u.protocol})` };
  if (u.username || u.password) return { error: 'to must not carry user info' };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
  if (!loopback) return { error: `to must name a loopback host (127.0.0.0/8, ::1, localhost), not ${JSON.stringify(u.hostname)}` };
  return { url: u };
}

// get does one GET with only the given Authorization header; no redirects are
// followed (Node's http never does). It resolves {status, body excerpt} or rejects.
function get(u, authorization, timeoutMs) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (authorization !== undefined) headers.authorization = authorization;
    let done = false;
    const finish = (fn, v) => { if (!done) { done = true; clearTimeout(timer); fn(v); } };
    const req = http.request(u, { method: 'GET', headers, agent: false }, (resp) => {
      const chunks = [];
      let n = 0;
      resp.on('data', (c) => {
        chunks.push(c);
        n += c.length;
        if (n >= BODY_EXCERPT_BYTES) {
          finish(resolve, { status: resp.statusCode, body: Buffer.concat(chunks).subarray(0, BODY_EXCERPT_BYTES).toString('utf8') });
          resp.destroy();
        }
      });
      resp.on('end', () => finish(resolve, { status: resp.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      resp.on('error', (e) => finish(reject, e));
    });
    const timer = setTimeout(() => {
      finish(reject, new Error(`no answer within ${timeoutMs} ms`));
      req.destroy();
    }, timeoutMs);
    req.on('error', (e) => finish(reject, e));
    req.end();
  });
}

// withTimeout rejects when p does not settle within ms.
function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}

// tokenCache wraps fetch() -> Promise<{accessToken, expiresIn}> so that the
// token is reused until shortly before it expires (a tenth of its lifetime,
// at most 60 s, before), with one fetch in flight at a time.
function tokenCache(fetch) {
  let cached = null; // {header, renewAt}
  let inflight = null;
  return function authorizationHeader() {
    if (cached && Date.now() < cached.renewAt) return Promise.resolve(cached.header);
    if (!inflight) {
      inflight = withTimeout(Promise.resolve().then(fetch), TOKEN_TIMEOUT_MS, 'service token')
        .then((t) => {
          if (!t || typeof t.accessToken !== 'string' || t.accessToken === '') throw new Error('the token response has no access_token');
          const life = Number(t.expiresIn) > 0 ? Number(t.expiresIn) * 1000 : 0;
          const margin = Math.min(60000, life / 10);
          cached = { header: 'Bearer ' + t.accessToken, renewAt: Date.now() + life - margin };
          return cached.header;
        })
        .finally(() => { inflight = null; });
    }
    return inflight;
  };
}

// clientCredentials gets an MCA service token by hand (what bms-mca-oauth-sdk's
// getAuthorizationHeaderBySecret does): POST {serverUrl}/authorization/v1/apps/{appId}/token,
// Basic base64(clientId:secret), form grant_type=client_credentials.
function clientCredentials(serverUrl, appId, clientId, secret) {
  return () => new Promise((resolve, reject) => {
    if (!clientId || !secret) return reject(new Error('MCA_CLIENT_ID and MCA_SECRET are needed for a service token'));
    const u = new URL(`${serverUrl}/authorization/v1/apps/${encodeURIComponent(appId)}/token`);
    const body = 'grant_type=client_credentials';
    const req = http.request(u, {
      method: 'POST',
      agent: false,
      headers: {
        authorization: 'Basic ' + Buffer.from(`${clientId}:${secret}`).toString('base64'),
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': Buffer.byteLength(body),
      },
    }, (resp) => {
      const chunks = [];
      resp.on('data', (c) => chunks.push(c));
      resp.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (resp.statusCode !== 200) return reject(new Error(`token endpoint ${u.href} answered ${resp.statusCode}: ${text.slice(0, 300)}`));
        try {
          const j = JSON.parse(text);
          resolve({ accessToken: j.access_token, expiresIn: j.expires_in });
        } catch (e) {
          reject(new Error(`token endpoint ${u.href} answered non-JSON: ${text.slice(0, 300)}`));
        }
      });
      resp.on('error', reject);
    });
    req.setTimeout(TOKEN_TIMEOUT_MS, () => req.destroy(new Error(`token endpoint ${u.href}: no answer within ${TOKEN_TIMEOUT_MS} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

async function forward(res, to, authorization) {
  try {
    const r = await get(to, authorization, DOWNSTREAM_TIMEOUT_MS);
    sendJSON(res, r.status, { downstream_status: r.status, body: r.body });
  } catch (e) {
    sendError(res, 502, 'downstream', `downstream ${to.href} could not be reached: ${e.message}`);
  }
}

// mount adds the contract's routes to an express app. protect is the
// strategy's middleware; securityContext(req) returns the context to show;
// serviceAuthorization() resolves "Bearer <service token>".
function mount(app, { protect, securityContext, serviceAuthorization }) {
  app.get('/healthz', (req, res) => sendJSON(res, 200, { status: 'ok' }));
  app.get('/v1/apps/:appId/protected', protect, (req, res) => sendJSON(res, 200, securityContext(req)));
  app.get('/v1/apps/:appId/propagate', protect, (req, res) => {
    const t = checkTo(req.query.to);
    if (t.error) return sendError(res, 400, 'invalid_request', t.error);
    // getAuthorizationHeaderFromIncomingRequest: the incoming header, unchanged.
    return forward(res, t.url, req.headers.authorization);
  });
  app.get('/v1/apps/:appId/service-call', protect, async (req, res) => {
    const t = checkTo(req.query.to);
    if (t.error) return sendError(res, 400, 'invalid_request', t.error);
    let authz;
    try {
      authz = await serviceAuthorization();
    } catch (e) {
      return sendError(res, 502, 'service_token', `could not get the target's service token: ${e.message}`);
    }
    return forward(res, t.url, authz);
  });
}

// listen serves app on 127.0.0.1:port with bounded header time and size,
// and closes on SIGTERM / SIGINT.
function listen(app, port, name) {
  const server = http.createServer({ maxHeaderSize: 16384, requestTimeout: 30000, headersTimeout: 10000, connectionsCheckingInterval: 1000 }, app);
  server.keepAliveTimeout = 5000;
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request');
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  server.listen(port, '127.0.0.1', () => {
    console.error(`${name}: listening on http://127.0.0.1:${port}`);
  });
  const stop = () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return server;
}

module.exports = { config, appIdFromPath, checkTo, mount, listen, tokenCache, clientCredentials, withTimeout, sendError, sendJSON, TOKEN_TIMEOUT_MS, DOWNSTREAM_TIMEOUT_MS };
