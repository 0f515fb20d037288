'use strict';
// mcaspec target jose (as its README configures it): the code is in app.js.
require('./app')(require);
