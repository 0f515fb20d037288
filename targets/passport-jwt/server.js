'use strict';
// mcaspec target passport-jwt (as jwks-rsa's README configures it): the code is in app.js.
require('./app')(require);
