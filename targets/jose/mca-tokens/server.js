'use strict';
// mcaspec target jose against MCA tokens (jose/mca-tokens): a key function over the app's publickey,
// hardened as docs/certification advises. The code is in ../app.js.
require('../app')(require, { hardened: true, mode: 'mca' });
