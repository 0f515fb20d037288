'use strict';
// mcaspec target bms-mca-backend: the code is in app.js, run on this folder's node_modules.
require('./app')(require);
