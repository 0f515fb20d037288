'use strict';
// mcaspec target express-jwt, hardened as docs/certification advises: the code is in ../app.js.
require('../app')(require, { hardened: true });
