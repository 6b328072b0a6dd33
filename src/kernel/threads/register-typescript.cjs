// Lets a worker thread require() our TypeScript when Broadsheet runs from its sources (the tests, the benches): a
// worker starts in plain Node, outside jest's transform. The built app loads dist/….js workers and never reads this.
const { readFileSync } = require('node:fs');
const { transformSync } = require('@swc/core');

if (!require.extensions['.ts']) {
  require.extensions['.ts'] = (module, filename) => {
    const { code } = transformSync(readFileSync(filename, 'utf8'), {
      filename,
      module: { type: 'commonjs' },
      jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { decoratorMetadata: true, legacyDecorator: true } },
    });
    module._compile(code, filename);
  };
}
