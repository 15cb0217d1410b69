import assert from 'node:assert/strict';
import { ConfigError } from '../../../shared/errors.js';
import { loadEmulatorEndpoints, parseHostPort } from '../../../shared/config/emulator-endpoints.js';
import { emulatorClients } from '../../../shared/wiring/emulator-client-options.js';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadEmulatorEndpoints(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error.problems.map(String);
  }
  return assert.fail('expected a ConfigError');
}

describe('emulator endpoints (rehearsals only)', () => {
  it('is empty when no emulator variable is set: the real APIs', () => {
    assert.deepEqual(loadEmulatorEndpoints({}), {});
  });

  it('reads host:port of the Vertex, Cloud Run and Monitoring stand-ins', () => {
    assert.deepEqual(
      loadEmulatorEndpoints({
        VERTEX_EMULATOR_HOST: '127.0.0.1:9001',
        CLOUD_RUN_EMULATOR_HOST: 'localhost:9002',
        MONITORING_EMULATOR_HOST: '[::1]:9003',
      }),
      {
        vertex: { host: '127.0.0.1', port: 9001 },
        cloudRun: { host: 'localhost', port: 9002 },
        monitoring: { host: '::1', port: 9003 },
      },
    );
  });

  it('refuses a host that is not loopback, naming the variable and the opt-in', () => {
    const problems = problemsOf({
      CLOUD_RUN_EMULATOR_HOST: 'run.example.com:443',
      STORAGE_EMULATOR_HOST: 'http://10.0.0.5:9023',
      PUBSUB_EMULATOR_HOST: '127.0.0.1:8085',
    });
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(
      problems[0] ?? '',
      /^CLOUD_RUN_EMULATOR_HOST="run.example.com:443" is not a loopback/,
    );
    assert.match(problems[1] ?? '', /^STORAGE_EMULATOR_HOST=.*RECDEPLOY_ALLOW_REMOTE_EMULATORS=1/);
  });

  it('accepts a remote emulator only with the explicit opt-in', () => {
    assert.deepEqual(
      loadEmulatorEndpoints({
        VERTEX_EMULATOR_HOST: 'vertex-emulator:8080',
        FIRESTORE_EMULATOR_HOST: 'firestore-emulator:8080',
        RECDEPLOY_ALLOW_REMOTE_EMULATORS: '1',
      }),
      { vertex: { host: 'vertex-emulator', port: 8080 } },
    );
    assert.match(
      problemsOf({ RECDEPLOY_ALLOW_REMOTE_EMULATORS: 'yes' })[0] ?? '',
      /expected 0 or 1/,
    );
  });

  it('refuses a URL or a bad port where host:port is expected', () => {
    assert.match(
      problemsOf({ VERTEX_EMULATOR_HOST: 'http://127.0.0.1:9001' })[0] ?? '',
      /^VERTEX_EMULATOR_HOST=.* is invalid: expected host:port/,
    );
    assert.equal(parseHostPort('127.0.0.1:70000'), 'port 70000 is outside 1–65535');
  });

  it('turns an endpoint into plaintext gax client options carrying the project', async () => {
    const clients = await emulatorClients({ VERTEX_EMULATOR_HOST: '127.0.0.1:9001' }, 'proj-1');
    assert.deepEqual(clients.cloudRun, {});
    assert.deepEqual(clients.monitoring, {});
    const options = clients.vertex.clientOptions;
    assert.equal(options?.apiEndpoint, '127.0.0.1');
    assert.equal(options?.port, 9001);
    assert.equal(options?.projectId, 'proj-1');
    assert.equal(options?.sslCreds._isSecure(), false);
  });
});
