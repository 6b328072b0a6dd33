// Loads the TypeScript PGlite worker when Broadsheet runs from its sources (the tests, the benches); the built app
// loads dist/…/embedded-postgres.worker.js directly and never reads this file.
const { join } = require('node:path');
require('../threads/register-typescript.cjs');
require(join(__dirname, 'embedded-postgres.worker.ts'));
