'use strict';
// mcaspec target express-oauth2-jwt-bearer (as its README configures it): the code is in app.js.
require('./app')(require);
