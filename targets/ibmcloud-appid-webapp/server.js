'use strict';
// mcaspec web target ibmcloud-appid-webapp: the code is in app.js, run on this folder's node_modules.
require('./app')(require);
