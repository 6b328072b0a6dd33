// Lets benchmark scripts and their child processes run TypeScript directly (`node -r ./bench/ts-hook.cjs x.ts`),
// transformed by @swc/core (already a dev dependency for Jest) to CommonJS, like the Jest setup does.
const { transformSync } = require('@swc/core');
const Module = require('node:module');
const fs = require('node:fs');

const options = {
  jsc: { parser: { syntax: 'typescript', decorators: true }, transform: { legacyDecorator: true, decoratorMetadata: true }, target: 'es2022' },
  module: { type: 'commonjs' },
  sourceMaps: 'inline',
};
Module._extensions['.ts'] = function compile(module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, 'utf8'), { ...options, filename });
  module._compile(code, filename);
};
