'use strict';
// mcaspec target: bluemix-appid 3.0.6 (the earlier name of ibmcloud-appid), APIStrategy:
// the code of ../../ibmcloud-appid/app.js on this folder's node_modules.
require('../../ibmcloud-appid/app')(require, 'bluemix-appid');
