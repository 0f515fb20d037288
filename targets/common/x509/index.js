'use strict';
// mcaspec stand-in for the npm package x509 ~0.2.4 (a native addon on
// OpenSSL 1.0 that does not build on Node 20). bms-mca-oauth-sdk 3.0.5
// requires it at load time and calls only parseCert(pem).subject.commonName
// (getAuthorizationHeaderByCertificate); this module provides parseCert on
// Node's built-in crypto.X509Certificate, with the field names of x509 0.2.x
// for the subject and the issuer. Nothing else of x509's API is provided.

const crypto = require('crypto');
const fs = require('fs');

// The names x509 0.2.x gives to the distinguished-name attributes
// (its src/x509.cc: OBJ_nid2ln in camel case); others keep their short name.
const NAMES = {
  CN: 'commonName',
  C: 'countryName',
  ST: 'stateOrProvinceName',
  L: 'localityName',
  O: 'organizationName',
  OU: 'organizationalUnitName',
  emailAddress: 'emailAddress',
  serialNumber: 'serialNumber',
  DC: 'domainComponent',
};

// parseName turns Node's "CN=a\nO=b" into {commonName: 'a', organizationName: 'b'}.
function parseName(text) {
  const out = {};
  for (const line of (text || '').split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    out[NAMES[k] || k] = line.slice(i + 1);
  }
  return out;
}

// parseCert takes a PEM certificate (as a string or Buffer) or, like x509
// 0.2.x, the path of a PEM file. It throws on anything that is not one.
function parseCert(pemOrPath) {
  let pem = pemOrPath;
  if (typeof pem === 'string' && !pem.includes('-----BEGIN')) pem = fs.readFileSync(pem);
  let cert;
  try {
    cert = new crypto.X509Certificate(pem);
  } catch (e) {
    throw new Error(`x509.parseCert: not a PEM certificate: ${e.message}`);
  }
  return {
    version: 3,
    subject: parseName(cert.subject),
    issuer: parseName(cert.issuer),
    serial: cert.serialNumber,
    notBefore: new Date(cert.validFrom),
    notAfter: new Date(cert.validTo),
    fingerPrint: cert.fingerprint,
  };
}

module.exports = { parseCert };
