'use strict';
// mcaspec target passport-jwt, hardened as docs/certification advises: the code is in ../app.js.
require('../app')(require, { hardened: true });
