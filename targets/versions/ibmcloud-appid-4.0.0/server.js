'use strict';
// mcaspec target: ibmcloud-appid 4.0.0, APIStrategy: the code of ../../ibmcloud-appid/app.js
// on this folder's node_modules.
require('../../ibmcloud-appid/app')(require, 'ibmcloud-appid');
