'use strict';
// mcaspec target ibmcloud-appid: the code is in app.js, run on this folder's node_modules.
require('./app')(require);
