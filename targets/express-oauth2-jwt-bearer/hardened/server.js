'use strict';
// mcaspec target express-oauth2-jwt-bearer, hardened as docs/certification advises: the code is in ../app.js.
require('../app')(require, { hardened: true });
