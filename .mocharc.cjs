// Tests run on the TypeScript sources (the "source" export condition) through tsx,
// so `npm test` needs no build step. The unit tier is kept off the network by
// test/support/hermetic.ts.
module.exports = {
  'node-option': ['conditions=source', 'import=tsx', 'no-experimental-require-module'],
  require: ['test/support/hermetic.ts'],
  reporter: 'test/support/summary-reporter.cjs',
  timeout: 20000,
  'forbid-only': true,
  exit: true,
};
