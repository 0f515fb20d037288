'use strict';
// mcaspec target jose, hardened as docs/certification advises: the code is in ../app.js.
require('../app')(require, { hardened: true });
