// Benchmarks (`npm run bench`): not part of `npm test`; each prints its figures.
const base = require('./jest.config.cjs');
const { displayName, testMatch, ...project } = base.projects[0];
module.exports = { ...project, displayName: 'bench', testMatch: ['<rootDir>/bench/**/*.bench.ts'], testTimeout: 300_000 };
