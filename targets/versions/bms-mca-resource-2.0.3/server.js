'use strict';
// mcaspec target: bms-mca-token-validation-strategy 2.0.3, MCAResourceStrategy:
// the code of ../../bms-mca-resource/app.js on this folder's node_modules.
//
// 2.0.3 pulls bms-monitoring-sdk-node, which (unless ENABLE_ANALYTICS_SDK=no)
// posts a client-credentials token request to the AZ at start-up and so skews
// the harness's token counts. A user without Bluemix analytics turns it off.
if (!process.env.ENABLE_ANALYTICS_SDK) process.env.ENABLE_ANALYTICS_SDK = 'no';
require('../../bms-mca-resource/app')(require);
