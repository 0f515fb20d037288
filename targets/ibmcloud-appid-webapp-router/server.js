'use strict';
// mcaspec web target ibmcloud-appid-webapp-router: the code and node_modules of ../ibmcloud-appid-webapp, the
// protected area wired as a router mounted under /web/protected
// (MCA_WEB_WIRING=router, docs/TARGET-CONTRACT.md "Wirings").
const path = require('path');
const { createRequire } = require('module');

process.env.MCA_WEB_WIRING = 'router';
require('../ibmcloud-appid-webapp/app')(createRequire(path.join(__dirname, '..', 'ibmcloud-appid-webapp', 'package.json')));
