'use strict';
// mcaspec target express-jwt (as its README configures it): the code is in app.js.
require('./app')(require);
