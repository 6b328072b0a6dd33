// Loads the TypeScript parse worker when Broadsheet runs from its sources (the tests); the built app loads
// dist/…/feed-parse.worker.js directly and never reads this file.
const { join } = require('node:path');
require('../../kernel/threads/register-typescript.cjs');
module.exports = require(join(__dirname, 'feed-parse.worker.ts'));
