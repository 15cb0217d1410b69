/**
 * Keeps the test run off the network. Unit tests (test/unit) may not open any
 * socket; other tiers may reach loopback only (local fakes, the local stack).
 * A test that tries otherwise fails with the address it tried, instead of
 * hanging on a DNS lookup or reaching a real Google endpoint.
 */
import net from 'node:net';
import path from 'node:path';

process.env.METADATA_SERVER_DETECTION = 'none';
delete process.env.GOOGLE_APPLICATION_CREDENTIALS;

const unitDir = `${path.sep}test${path.sep}unit${path.sep}`;
let currentFile = '';

function isLoopback(host: string): boolean {
  return (
    host === 'localhost' || host === '::1' || host.startsWith('127.') || host === '::ffff:127.0.0.1'
  );
}

type ConnectArgs = Parameters<net.Socket['connect']>;
// eslint-disable-next-line @typescript-eslint/unbound-method -- re-applied below with the socket as `this`
const originalConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: ConnectArgs) {
  const first: unknown = args[0];
  const options = (Array.isArray(first) ? first[0] : first) as
    { host?: string; path?: string; port?: number } | number | string;
  const host =
    typeof options === 'object' && options !== null
      ? (options.host ?? (options.path ? 'unix-socket' : 'localhost'))
      : typeof options === 'number'
        ? typeof args[1] === 'string'
          ? args[1]
          : 'localhost'
        : 'unix-socket';
  if (currentFile.includes(unitDir) && host !== 'unix-socket') {
    throw new Error(`unit tests are hermetic: attempted connection to ${host} from ${currentFile}`);
  }
  if (host !== 'unix-socket' && !isLoopback(host)) {
    throw new Error(`tests reach loopback only: attempted connection to ${host}`);
  }
  return originalConnect.apply(this, args);
} as typeof originalConnect;

export const mochaHooks = {
  // Scoped to each test body, so a later tier's `before` hooks are never judged
  // by the file of the unit test that ran just before them.
  beforeEach(this: Mocha.Context) {
    currentFile = this.currentTest?.file ?? '';
  },
  afterEach() {
    currentFile = '';
  },
};
