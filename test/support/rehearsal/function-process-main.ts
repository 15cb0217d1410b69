/**
 * One of the chain's functions in a process of its own, under the real
 * functions-framework, as Cloud Run functions runs it: the module registers
 * its handler, the framework's server listens on a free loopback port, and
 * the port is announced on stdout as one JSON line. Its configuration comes
 * from the environment (function-processes.ts sets it).
 *
 * Usage: node --conditions=source --import tsx function-process-main.ts register|deploy|verify
 */
import type { AddressInfo } from 'node:net';

const FUNCTIONS = {
  register: () => import('../../../functions/register/src/index.js'),
  deploy: () => import('../../../functions/deploy/src/index.js'),
  verify: () => import('../../../functions/verify/src/index.js'),
} as const;

type FunctionName = keyof typeof FUNCTIONS;

const name = process.argv[2] ?? '';
if (!(name in FUNCTIONS)) {
  console.error(
    `usage: function-process-main.ts ${Object.keys(FUNCTIONS).join('|')} (got ${name})`,
  );
  process.exit(2);
}
await FUNCTIONS[name as FunctionName]();
const { getTestServer } = await import('@google-cloud/functions-framework/testing');
const server = getTestServer(name);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: name, port })}\n`);
});
