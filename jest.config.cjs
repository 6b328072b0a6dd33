// Jest on Node 20 cannot require() ESM: @swc/jest transforms our TypeScript and the ESM-only packages
// (NestJS 12, feed 6) to CommonJS. Run through `npm test` (node --experimental-vm-modules) for PGlite.
const transform = {
  '^.+\\.(t|j|mj)s$': [
    '@swc/jest',
    {
      jsc: {
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        target: 'es2022',
      },
      module: { type: 'commonjs' },
    },
  ],
};
const common = {
  transform,
  transformIgnorePatterns: [
    '/node_modules/(?!(@nestjs|feed|file-type|strtok3|token-types|@tokenizer|uint8array-extras|sanitize-html|htmlparser2|domhandler|domutils|dom-serializer|entities|domelementtype)/)',
  ],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testEnvironment: 'node',
  rootDir: __dirname,
};
// Integration and e2e cases boot the app (PGlite, migrations, often the demo pipeline) once or several times: 23 s
// at a load of 5, past 60 s at a load of 11 to 14 on a 2-core machine. 240 s is a bound on a hang, not a measured
// threshold; an overrun would also leave PGlite booting into the next suite of the same worker.
module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testTimeout: 30_000,
      testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/fakes/**/*.spec.ts', '<rootDir>/test/unit/**/*.spec.ts'],
    },
    { ...common, displayName: 'integration', testTimeout: 240_000, testMatch: ['<rootDir>/test/integration/**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', testTimeout: 240_000, testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
  ],
  maxWorkers: 2,
  testTimeout: 240_000,
};
