'use strict';
// mcaspec web target: ibmcloud-appid 4.0.0, WebAppStrategy, with passport 0.6.0: the code of
// ../../ibmcloud-appid-webapp/app.js on this folder's node_modules.
require('../../ibmcloud-appid-webapp/app')(require);
