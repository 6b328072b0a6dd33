// Loads the TypeScript parse worker when Broadsheet runs from its sources (the tests); the built app loads
// dist/…/feed-parse.worker.js directly and never reads this file.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { transformSync } = require('@swc/core');

require.extensions['.ts'] = (module, filename) => {
  const { code } = transformSync(readFileSync(filename, 'utf8'), {
    filename,
    module: { type: 'commonjs' },
    jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { decoratorMetadata: true, legacyDecorator: true } },
  });
  module._compile(code, filename);
};
module.exports = require(join(__dirname, 'feed-parse.worker.ts'));
