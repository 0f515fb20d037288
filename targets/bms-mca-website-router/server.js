'use strict';
// mcaspec web target bms-mca-website-router: the code and node_modules of ../bms-mca-website, the
// protected area wired as a router mounted under /web/protected
// (MCA_WEB_WIRING=router, docs/TARGET-CONTRACT.md "Wirings").
const path = require('path');
const { createRequire } = require('module');

process.env.MCA_WEB_WIRING = 'router';
require('../bms-mca-website/app')(createRequire(path.join(__dirname, '..', 'bms-mca-website', 'package.json')));
