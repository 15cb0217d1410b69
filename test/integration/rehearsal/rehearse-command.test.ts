/**
 * `recdeploy start --backend gcp-emulated` (what `npm run rehearse` runs) as a
 * person runs it: a real child process in its own group. It deploys the
 * sample model through the cloud adapters, prints where it answers (private:
 * only with an ID token for the service URL), serves the dashboard from
 * Firestore, and Ctrl-C stops every process it started, the revisions'
 * included.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleBundle } from '../../support/ann-serving/sample-bundle.js';
import { rehearsalUnavailable } from '../../support/rehearsal/rehearsal-chain.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BIN = path.join(ROOT, 'cli/bin/recdeploy.js');

interface Endpoints {
  readonly status: string;
  readonly runId: string;
  readonly serviceUrl: string;
  readonly revision: string;
  readonly dashboardUrl: string;
  readonly metadataHost: string;
  readonly modelName: string;
  readonly exampleInstance: unknown;
}

const unavailable = rehearsalUnavailable();

describe('recdeploy start --backend gcp-emulated', function () {
  this.timeout(240_000);

  it('refuses the options only the local stack has, with a usage error', function () {
    const result = spawnSync(
      process.execPath,
      [BIN, 'start', '--backend', 'gcp-emulated', '--data-dir', '/tmp/x', '--products', '30'],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /--data-dir, --products: only with --backend local/);
  });

  if (unavailable !== undefined) {
    it(`is not run here: ${unavailable}`);
    return;
  }

  it('deploys the sample on the cloud path, answers only with an ID token, and stops everything on Ctrl-C', async function () {
    // The suite's sample bundle (trained once per test process), so the child trains nothing.
    const { dir } = await sampleBundle();
    const child = spawn(
      process.execPath,
      [BIN, 'start', '--backend', 'gcp-emulated', '--bundle', dir, '--json'],
      {
        cwd: ROOT,
        env: { ...process.env, METADATA_SERVER_DETECTION: 'none' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      const endpoints = await waitForJson(
        () => stdout,
        exited,
        () => stderr,
      );
      assert.equal(endpoints.status, 'live', stderr);
      assert.match(endpoints.revision, /^rec-recs-home-r1-[0-9a-f]{8}$/);

      const predict = `${endpoints.serviceUrl}/v1/models/${endpoints.modelName}:predict`;
      const body = JSON.stringify({ instances: [endpoints.exampleInstance] });
      const anonymous = await fetch(predict, { method: 'POST', body });
      assert.equal(anonymous.status, 403, 'a private service refuses a request without a token');
      const token = await idToken(endpoints.metadataHost, endpoints.serviceUrl);
      const answer = await fetch(predict, {
        method: 'POST',
        body,
        headers: { Authorization: `Bearer ${token}` },
      });
      assert.equal(answer.status, 200);
      const { predictions } = (await answer.json()) as {
        predictions: { product_ids: unknown[] }[];
      };
      assert.ok((predictions[0]?.product_ids.length ?? 0) > 0);

      // The dashboard reads the run from Firestore.
      const run = await fetch(`${endpoints.dashboardUrl}api/runs/${endpoints.runId}`);
      assert.equal(run.status, 200);
      assert.equal(((await run.json()) as { status?: string }).status, 'live');

      assert.ok(
        revisionProcesses(endpoints.revision, endpoints.metadataHost).length > 0,
        'the revision runs as a process',
      );
      process.kill(-child.pid!, 'SIGINT');
      assert.equal(await exited, 0, stderr);
      assert.match(stderr, /\nstopped\n/);
      assert.deepEqual(
        revisionProcesses(endpoints.revision, endpoints.metadataHost),
        [],
        'no revision process is left',
      );
      await assert.rejects(fetch(predict, { method: 'POST', body }), 'the service URL is closed');
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // Already stopped.
      }
    }
  });
});

async function waitForJson(
  stdout: () => string,
  exited: Promise<number | null>,
  stderr: () => string,
): Promise<Endpoints> {
  let ended = false;
  void exited.then(() => (ended = true));
  const deadline = Date.now() + 200_000;
  for (;;) {
    const line = stdout()
      .split('\n')
      .find((l) => l.startsWith('{'));
    if (line !== undefined) return JSON.parse(line) as Endpoints;
    if (ended || Date.now() > deadline) {
      assert.fail(`no endpoints printed (exited: ${ended}); stderr:\n${stderr()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function idToken(metadataHost: string, audience: string): Promise<string> {
  const url = `http://${metadataHost}/computeMetadata/v1/instance/service-accounts/default/identity?audience=${encodeURIComponent(audience)}`;
  const response = await fetch(url, { headers: { 'Metadata-Flavor': 'Google' } });
  assert.equal(response.status, 200);
  return response.text();
}

/**
 * Processes whose environment names `revision` as theirs (K_REVISION, as Cloud
 * Run sets it) and this rehearsal's metadata server (another rehearsal in this
 * test process may run a revision of the same name).
 */
function revisionProcesses(revision: string, metadataHost: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1');
      const vars = environ.split('\0');
      if (
        vars.includes(`K_REVISION=${revision}`) &&
        vars.includes(`GCE_METADATA_HOST=${metadataHost}`)
      ) {
        pids.push(Number(entry));
      }
    } catch {
      // Gone, or not ours to read.
    }
  }
  return pids;
}
