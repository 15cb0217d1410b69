/**
 * Executable dependency rules (STYLE.md §6, DESIGN.md §2 and §7). `npm run deps:validate`
 * fails the build when one is broken.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-domain-to-infra',
      comment: 'Domain code and ports are plain TypeScript: no adapters, no cloud SDKs.',
      severity: 'error',
      from: { path: '^shared/(domain|ports)/' },
      to: {
        path: [
          '^shared/adapters/',
          '@google-cloud/',
          'better-sqlite3',
          'node_modules/(pino|@grpc)/',
        ],
      },
    },
    {
      name: 'domain-depends-on-nothing-outside',
      comment:
        'Dependencies point inward (ports and adapters): the domain defines the types ports and use cases use, never the reverse.',
      severity: 'error',
      from: { path: '^shared/domain/' },
      to: { path: '^shared/(ports|usecases|adapters|wiring|config|logging|ann|verification)/' },
    },
    {
      name: 'no-function-to-function',
      comment: 'Each function deploys on its own; functions share code through shared/ only.',
      severity: 'error',
      from: { path: '^functions/([^/]+)/' },
      to: { path: '^functions/([^/]+)/', pathNot: '^functions/$1/' },
    },
    {
      name: 'no-service-to-function',
      severity: 'error',
      from: { path: '^services/' },
      to: { path: '^functions/' },
    },
    {
      name: 'events-import-only-events',
      comment: 'events/ is the contract package: it depends on nothing of ours.',
      severity: 'error',
      from: { path: '^events/' },
      to: { path: '^(shared|functions|services|test)/' },
    },
    {
      name: 'no-deployable-into-tests',
      severity: 'error',
      from: { path: '^(shared|events|functions|services)/' },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.base.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['source', 'import', 'require', 'node', 'default'],
      extensions: ['.ts', '.js', '.cjs', '.json'],
    },
  },
};
