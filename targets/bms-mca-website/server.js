'use strict';
// mcaspec web target bms-mca-website: the code is in app.js, run on this folder's node_modules.
require('./app')(require);
