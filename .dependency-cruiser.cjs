// Module boundaries (docs/architecture.md, "Modules"), checked by `npm run lint` in CI.
// A module is a folder under src/. Dependencies point one way, down the module table; a module reaches another
// only through its exported service (or its Nest module, to import it), never through its repository or
// entities; SDKs are imported only by adapters. The composition roots (src/*.ts, src/cli/) may import anything.

/** Which modules each module may import, besides itself: the module table's "depends on" column. */
const allowed = {
  kernel: [],
  sources: ['kernel'],
  narratives: ['sources', 'kernel'],
  issues: ['narratives', 'kernel'],
  subscribers: ['kernel'],
  delivery: ['issues', 'subscribers', 'kernel'],
  // The public site also serves the subscribe, confirm and unsubscribe pages (see docs/architecture.md).
  feeds: ['narratives', 'issues', 'subscribers', 'kernel'],
  admin: ['sources', 'narratives', 'issues', 'subscribers', 'delivery', 'feeds', 'kernel'],
};
const modules = Object.keys(allowed);

const layering = modules.map((module) => {
  const forbidden = modules.filter((other) => other !== module && !allowed[module].includes(other));
  return {
    name: `layers-${module}`,
    comment: `${module}/ may depend only on ${allowed[module].join(', ') || 'nothing else in src/'} (the module table; dependencies point one way)`,
    severity: 'error',
    from: { path: `^src/${module}/` },
    // Other modules' folders, the CLI and the composition roots at the top of src/ (app.module.ts, entities.ts, …).
    to: { path: module === 'kernel' ? '^src/(?!kernel/)' : `^src/((${[...forbidden, 'cli'].join('|')})/|[^/]+$)` },
  };
});

module.exports = {
  forbidden: [
    ...layering,
    {
      name: 'no-foreign-repository-or-entity',
      comment: 'A module reaches another only through its exported service: never through its repository or its entities (type imports too)',
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/[^/]+/.*\\.(repository|entity|entities)\\.ts$', pathNot: '^src/$1/' },
    },
    {
      name: 'only-services-across-modules',
      comment: "Across modules, import only the other module's service or Nest module (the kernel is shared by all)",
      severity: 'error',
      from: { path: '^src/([^/]+)/' },
      to: { path: '^src/(sources|narratives|issues|subscribers|delivery|feeds|admin)/', pathNot: ['^src/$1/', '\\.(service|module)\\.ts$'] },
    },
    {
      name: 'sdk-only-in-adapters',
      comment: 'resend, @anthropic-ai/sdk, undici and nodemailer are imported only by *.adapter.ts files',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.adapter\\.ts$' },
      to: { path: '(^|/)node_modules/(resend|@anthropic-ai/sdk|undici|nodemailer)/' },
    },
    {
      name: 'no-circular',
      comment: 'No cycles between files (Nest needs forwardRef for them, which we never use)',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-tests-from-src',
      comment: 'Application code never imports test code',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.(spec|int-spec|e2e-spec)\\.ts$' },
      to: { path: '^test/|\\.(spec|int-spec|e2e-spec)\\.ts$' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|coverage|data)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
