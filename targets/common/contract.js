'use strict';
// Shim shared by the npm targets: everything the target contract
// (docs/TARGET-CONTRACT.md) asks for that is not the strategy's own job.
// It uses Node built-ins only, so each target's own node_modules (express,
// passport, the strategy) stay the only third-party code.

const dns = require('dns');
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
    host: listenHost(env('HOST')),
    port: Number.parseInt(env('PORT'), 10),
    serverUrl: (env('MCA_SERVER_URL') || creds.serverUrl || '').replace(/\/+$/, ''),
    appId: env('MCA_APP_ID') || creds.tenantId || va.application_id || '',
    clientId: env('MCA_CLIENT_ID') || creds.clientId || '',
    secret: env('MCA_SECRET') || creds.secret || '',
    backend: env('MCA_MODE') === 'backend',
    logLevel: env('LOG_LEVEL') || 'warn',
    downstream: parseAllowList(process.env.MCA_DOWNSTREAM_HOSTS || ''),
  };
  if (!/^[0-9]+$/.test(env('PORT')) || !Number.isInteger(c.port) || c.port <= 0 || c.port > 65535) {
    throw new Error(`PORT=${JSON.stringify(env('PORT'))}: want a TCP port number (the target listens on $HOST:$PORT, HOST defaulting to ${DEFAULT_HOST})`);
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

const DEFAULT_HOST = '127.0.0.1';

// listenHost is the contract's HOST (default 127.0.0.1): an IP address
// (IPv6 with or without brackets) or a host name; localhost means 127.0.0.1.
function listenHost(h) {
  if (h === '') return DEFAULT_HOST;
  const host = h.replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost') return DEFAULT_HOST;
  if (net.isIP(host) === 0 && !/^[A-Za-z0-9_.-]+$/.test(host)) {
    throw new Error(`HOST=${JSON.stringify(h)}: want an IP address or a host name, e.g. 0.0.0.0 (every interface) or 127.0.0.1`);
  }
  return host;
}

function isLoopbackListen(host) {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

// The downstream allow-list: MCA_DOWNSTREAM_HOSTS, comma-separated
// host[:port] (IPv6 in brackets; no port: any port). Empty: loopback only
// (127.0.0.0/8, ::1, localhost, any port); the entry "loopback" stands for
// that inside a longer list. The same rules as Go's internal/downstream.
const LOOPBACK_DESC = 'loopback only (127.0.0.0/8, ::1, localhost)';

// canonicalIP returns the canonical text of an IP address (IPv4-mapped IPv6
// as IPv4), or null when s is not one.
function canonicalIP(s) {
  if (net.isIPv4(s)) return s;
  if (!net.isIPv6(s) || s.includes('%')) return null;
  let h;
  try {
    h = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  } catch (e) {
    return null;
  }
  const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
  if (m) {
    const hi = Number.parseInt(m[1], 16);
    const lo = Number.parseInt(m[2], 16);
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
  }
  return h;
}

function validName(s) {
  if (s === '' || s.length > 253 || s.startsWith('.') || s.startsWith('-') || s.endsWith('.') || s.includes('..')) return false;
  if (!/^[a-z0-9._-]+$/.test(s)) return false;
  return !/^[0-9]+$/.test(s.slice(s.lastIndexOf('.') + 1)); // the last label is not all digits
}

function parseEntry(item) {
  if (item.includes('://') || /[/?#@]/.test(item)) throw new Error('want host[:port], not a URL or a network (e.g. sink.internal:9001 or 10.0.0.7)');
  let host = item;
  let port = '';
  if (item.startsWith('[')) {
    const m = /^\[([^\]]*)\](?::(.*))?$/.exec(item);
    if (!m) throw new Error('want [IPv6] or [IPv6]:port');
    host = m[1];
    port = m[2] === undefined ? '' : m[2];
    if (!net.isIPv6(host)) throw new Error(`${JSON.stringify(host)} in brackets is not an IPv6 address`);
  } else if ((item.match(/:/g) || []).length > 1) {
    if (!net.isIPv6(item)) throw new Error('not an IPv6 address; write an IPv6 address with a port as [addr]:port');
  } else if (item.includes(':')) {
    [host, port] = item.split(':');
  }
  if (item.endsWith(':')) throw new Error('empty port; write host for any port or host:port');
  if (port !== '' && (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535)) {
    throw new Error(`port ${JSON.stringify(port)}: want a number from 1 to 65535`);
  }
  if (net.isIP(host) !== 0) {
    if (host.includes('%')) throw new Error('an address with a zone is not supported');
    const ip = canonicalIP(host);
    if (ip === null) throw new Error(`${JSON.stringify(host)} is not an IP address`);
    if (ip === '0.0.0.0' || ip === '::') throw new Error(`${host} is the unspecified address, not a host to call`);
    return { ip, port };
  }
  const name = host.toLowerCase().replace(/\.$/, '');
  if (!validName(name)) {
    throw new Error(`${JSON.stringify(host)} is neither an IP address nor a host name (letters, digits, '-', '_' and dots; the last label not all digits)`);
  }
  return { name, port };
}

// parseAllowList parses MCA_DOWNSTREAM_HOSTS; it throws on a bad value.
function parseAllowList(s) {
  if (s.trim() === '') return { explicit: false, loopback: true, entries: [], text: LOOPBACK_DESC };
  const a = { explicit: true, loopback: false, entries: [] };
  for (let item of s.split(',')) {
    item = item.trim();
    if (item === '') continue;
    if (item.toLowerCase() === 'loopback') {
      a.loopback = true;
      continue;
    }
    try {
      a.entries.push(parseEntry(item));
    } catch (e) {
      throw new Error(`MCA_DOWNSTREAM_HOSTS=${JSON.stringify(s)}: entry ${JSON.stringify(item)}: ${e.message}`);
    }
  }
  if (!a.loopback && a.entries.length === 0) {
    throw new Error(`MCA_DOWNSTREAM_HOSTS=${JSON.stringify(s)} has no entry; want comma-separated host[:port], e.g. sink.internal:9001,10.0.0.7,[fd00::7]:80`);
  }
  const parts = a.loopback ? ['loopback'] : [];
  for (const e of a.entries) {
    let h = e.name || (e.ip.includes(':') ? `[${e.ip}]` : e.ip);
    if (e.port) h += `:${e.port}`;
    parts.push(h);
  }
  a.text = parts.join(',');
  return a;
}

const DEFAULT_ALLOW_LIST = parseAllowList('');

function isLoopbackHost(host) {
  if (host.toLowerCase().replace(/\.$/, '') === 'localhost') return true;
  const ip = canonicalIP(host);
  return ip !== null && (ip === '::1' || (net.isIPv4(ip) && ip.startsWith('127.')));
}

// allowMatch says whether host (no brackets) and port are allowed, and
// whether the name must resolve to a loopback address (localhost allowed by
// the loopback entries).
function allowMatch(a, host, port) {
  const ip = canonicalIP(host);
  const name = host.toLowerCase().replace(/\.$/, '');
  for (const e of a.entries) {
    if (e.port && e.port !== port) continue;
    if ((e.ip && ip !== null && e.ip === ip) || (e.name && ip === null && e.name === name)) return { ok: true, mustResolveLoopback: false };
  }
  if (a.loopback && isLoopbackHost(host)) return { ok: true, mustResolveLoopback: ip === null };
  return { ok: false };
}

// loopbackLookup resolves like dns.lookup but fails unless every address is loopback.
function loopbackLookup(hostname, options, callback) {
  dns.lookup(hostname, options, (err, address, family) => {
    if (err) return callback(err);
    const list = Array.isArray(address) ? address : [{ address, family }];
    const bad = list.find((x) => !isLoopbackHost(x.address));
    if (bad) return callback(new Error(`${hostname} resolved to ${bad.address}, which is not loopback`));
    return callback(null, address, family);
  });
}

// checkTo validates the to parameter: an http URL without user info whose
// host:port (port 80 when absent) the allow-list allows. It makes no
// connection and no DNS lookup.
function checkTo(to, allow = DEFAULT_ALLOW_LIST) {
  if (typeof to !== 'string' || to === '') return { error: `to is required: an http URL, e.g. http://127.0.0.1:9001/echo (allowed downstream hosts: ${allow.text})` };
  let u;
  try {
    u = new URL(to);
  } catch (e) {
    return { error: `to ${JSON.stringify(to)} is not a URL; use an http URL` };
  }
  if (u.protocol !== 'http:') return { error: `to must be an http URL (got ${u.protocol})` };
  if (u.username || u.password) return { error: 'to must not carry user info' };
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = u.port || '80';
  const m = allowMatch(allow, host, port);
  if (!m.ok) {
    const hp = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    return { error: `to=${JSON.stringify(to)}: ${hp} is not an allowed downstream host (MCA_DOWNSTREAM_HOSTS: ${allow.text})` };
  }
  return { url: u, mustResolveLoopback: m.mustResolveLoopback };
}

// get does one GET with only the given Authorization header; no redirects are
// followed (Node's http never does). With mustResolveLoopback the host name
// must resolve to loopback addresses only. It resolves {status, body excerpt} or rejects.
function get(u, authorization, timeoutMs, mustResolveLoopback = false) {
  return new Promise((resolve, reject) => {
    const headers = {};
    if (authorization !== undefined) headers.authorization = authorization;
    let done = false;
    const finish = (fn, v) => { if (!done) { done = true; clearTimeout(timer); fn(v); } };
    const opts = { method: 'GET', headers, agent: false };
    if (mustResolveLoopback) opts.lookup = loopbackLookup;
    const req = http.request(u, opts, (resp) => {
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

// errorText is the message of an Error, or the JSON of what the MCA SDKs
// reject with (plain objects: {code, message} or RejectionMessage {reason, info, code}).
function errorText(e) {
  if (e instanceof Error) return e.message;
  try {
    return JSON.stringify(e);
  } catch (_) {
    return String(e);
  }
}

// The server SDKs a bms target can use for /propagate and /service-call
// (MCA_OAUTH_SDK picks one): the package names and how each gets the header.
const OAUTH_SDKS = {
  // bms-mca-oauth-sdk 3.0.5, the server SDK the MCA security overview names.
  'bms-mca-oauth-sdk': (sdk, o) => sdk.getAuthorizationHeaderBySecret(o),
  // imf-oauth-user-sdk 1.0.4 (pulled by bms-mca-token-validation-strategy 2.0.3).
  'imf-oauth-user-sdk': (sdk, o) => sdk.getAuthorizationHeader(o),
};

// oauthSDK loads the server SDK named by MCA_OAUTH_SDK (default
// bms-mca-oauth-sdk) with the target's own require (so it comes from the
// target's node_modules) and returns {name, propagateAuthorization(req),
// serviceAuthorization()}: the SDK's getAuthorizationHeaderFromIncomingRequest
// and its client-credentials call, as they are: no cache, no timeout added.
function oauthSDK(cfg, targetRequire) {
  const name = (process.env.MCA_OAUTH_SDK || '').trim() || 'bms-mca-oauth-sdk';
  const call = OAUTH_SDKS[name];
  if (!call) throw new Error(`MCA_OAUTH_SDK=${JSON.stringify(name)}: want one of ${Object.keys(OAUTH_SDKS).join(', ')}`);
  const sdk = targetRequire(name);
  console.error(`/propagate and /service-call through ${name} ${targetRequire(`${name}/package.json`).version}`);
  const options = { appId: cfg.appId, clientId: cfg.clientId, secret: cfg.secret, serverUrl: cfg.serverUrl };
  return {
    name,
    propagateAuthorization: (req) => sdk.getAuthorizationHeaderFromIncomingRequest(req),
    serviceAuthorization: () => {
      if (!cfg.clientId || !cfg.secret) return Promise.reject(new Error('MCA_CLIENT_ID and MCA_SECRET are needed for a service token'));
      // The SDKs reject with plain objects (and imf-oauth-user-sdk can throw): make them Errors.
      return Promise.resolve().then(() => call(sdk, options)).catch((e) => { throw new Error(`${name}: ${errorText(e)}`); });
    },
  };
}

async function forward(res, t, authorization) {
  try {
    const r = await get(t.url, authorization, DOWNSTREAM_TIMEOUT_MS, t.mustResolveLoopback);
    sendJSON(res, r.status, { downstream_status: r.status, body: r.body });
  } catch (e) {
    sendError(res, 502, 'downstream', `downstream ${t.url.href} could not be reached: ${e.message}`);
  }
}

// mount adds the contract's routes to an express app. protect is the
// strategy's middleware; securityContext(req) returns the context to show;
// serviceAuthorization() resolves "Bearer <service token>";
// propagateAuthorization(req) is the header /propagate forwards (default: the
// incoming one, unchanged); downstream is the allow-list (config().downstream;
// default loopback only).
function mount(app, {
  protect, securityContext, serviceAuthorization, propagateAuthorization = (req) => req.headers.authorization, downstream = DEFAULT_ALLOW_LIST,
}) {
  app.get('/healthz', (req, res) => sendJSON(res, 200, { status: 'ok' }));
  app.get('/v1/apps/:appId/protected', protect, (req, res) => sendJSON(res, 200, securityContext(req)));
  app.get('/v1/apps/:appId/propagate', protect, (req, res) => {
    const t = checkTo(req.query.to, downstream);
    if (t.error) return sendError(res, 400, 'invalid_request', t.error);
    return forward(res, t, propagateAuthorization(req));
  });
  app.get('/v1/apps/:appId/service-call', protect, async (req, res) => {
    const t = checkTo(req.query.to, downstream);
    if (t.error) return sendError(res, 400, 'invalid_request', t.error);
    let authz;
    try {
      authz = await serviceAuthorization();
    } catch (e) {
      return sendError(res, 502, 'service_token', `could not get the target's service token: ${errorText(e)}`);
    }
    return forward(res, t, authz);
  });
}

// listen serves app on cfg.host:cfg.port (config(); HOST defaults to
// 127.0.0.1) with bounded header time and size, and closes on SIGTERM / SIGINT.
function listen(app, cfg, name) {
  const { host, port } = cfg;
  const server = http.createServer({ maxHeaderSize: 16384, requestTimeout: 30000, headersTimeout: 10000, connectionsCheckingInterval: 1000 }, app);
  server.keepAliveTimeout = 5000;
  server.on('clientError', (err, socket) => {
    if (!socket.writable) return socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request');
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  server.listen(port, host, () => {
    const hp = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    console.error(`${name}: listening on http://${hp}`);
    if (!isLoopbackListen(host)) {
      console.error(`${name} listens on ${hp}: it is reachable from the network, not only from this machine`);
    }
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

// WEB_WIRINGS are the two ways a website protects an area (MCA_WEB_WIRING,
// docs/TARGET-CONTRACT.md "Wirings"): a route per path, or a router mounted
// under the prefix, where Express cuts /web/protected from req.url before
// the strategy sees it.
const WEB_WIRINGS = ['route', 'router'];

// protectWeb wires GET /web/protected and every path below it: protect (the
// strategy's middleware), then show.
function protectWeb(app, express, protect, show) {
  const wiring = (process.env.MCA_WEB_WIRING || '').trim() || 'route';
  if (!WEB_WIRINGS.includes(wiring)) {
    throw new Error(`MCA_WEB_WIRING=${JSON.stringify(wiring)}: want one of ${WEB_WIRINGS.join(', ')}`);
  }
  if (wiring === 'route') {
    app.get('/web/protected', protect, show);
    app.get('/web/protected/*', protect, show);
    return;
  }
  const router = express.Router();
  router.get('*', show);
  app.use('/web/protected', protect, router);
}

module.exports = {
  protectWeb, config, appIdFromPath, checkTo, parseAllowList, mount, listen, tokenCache, oauthSDK, errorText, withTimeout, sendError, sendJSON,
  TOKEN_TIMEOUT_MS, DOWNSTREAM_TIMEOUT_MS, DEFAULT_HOST,
};
