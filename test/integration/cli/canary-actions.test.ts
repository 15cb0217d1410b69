/**
 * `recdeploy promote` and `recdeploy abort` as real child processes on a real
 * SQLite run store (canary-seed.ts): the request recorded in the run's canary
 * state and nothing else changed, the real canary tick (advanceCanary)
 * carrying it out, the wait printing the outcome and what serves, a wait
 * that ends first, the refusals (exit 3, nothing changed) and --json.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { applyOperatorRequest, requestCanaryAction, type RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import {
  pretendStackRuns,
  recdeploy,
  recdeployProcess,
  startRecdeployProcess,
} from './cli-harness.js';
import { CANARY_REV, SERVICE, STABLE_REV, seedCanary, tickCanary } from './canary-seed.js';

describe('recdeploy promote / abort', function () {
  this.timeout(60_000);
  let dataDir: string;
  let store: SqliteRunStore;
  let stable: RunDocument;
  let canary: RunDocument;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-canary-'));
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    ({ stable, canary } = await seedCanary(store));
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('abort --no-wait records the request in the run and nothing else; the next tick carries it out', async () => {
    const { code, stdout, stderr } = await recdeployProcess([
      'abort',
      canary.runId,
      '--no-wait',
      '--data-dir',
      dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const stored = await store.getRun(canary.runId);
    const request = stored?.canary?.request;
    assert.ok(request, 'the request is in the run');
    assert.equal(request.action, 'abort');
    assert.match(request.by, /^\S+ via recdeploy abort$/);
    assert.equal(stored?.status, 'canary');
    assert.equal(stored?.canary?.phase, 'holding', 'nothing moves before a tick');
    assert.equal(stored?.canary?.seq, (canary.canary?.seq ?? 0) + 1);
    assert.deepEqual(stored?.canary?.steps, canary.canary?.steps);
    assert.deepEqual(await store.getRun(stable.runId), stable);
    assert.deepEqual(stdout.trimEnd().split('\n'), [
      `run ${canary.runId}: abort recorded, requested by ${request.by} at ${request.at}`,
      `  canary of revision ${CANARY_REV} against stable ${STABLE_REV}, holding step 1 of 2 (10% of traffic) when asked`,
      `  no local stack is running on ${dataDir}: the stack carries it out at its first canary tick once started (npm start)`,
    ]);
    assert.equal(stderr, `follow it with: recdeploy status ${canary.runId} --watch\n`);

    const ticked = await tickCanary(store, canary.runId);
    assert.equal(ticked?.status, 'rolled_back');
    assert.equal(ticked?.canary?.phase, 'aborted');
    assert.equal(
      ticked?.canary?.outcome?.reason,
      `aborted by ${request.by} at step 1 of 2 (10% of traffic)`,
    );
    assert.equal((await store.getRun(stable.runId))?.status, 'live');
  });

  it('promote waits for the tick, then prints the outcome and what serves', async () => {
    const stopPretending = pretendStackRuns(dataDir);
    try {
      const child = startRecdeployProcess([
        'promote',
        canary.runId,
        '--wait-s',
        '30',
        '--data-dir',
        dataDir,
      ]);
      await child.waitForStderr(
        /waiting up to 30 s: the local stack \(pid \d+\) carries it out at its next canary tick \(every 5 s\)/,
      );
      assert.equal((await tickCanary(store, canary.runId))?.status, 'live');
      const { code, stdout, stderr } = await child.exited;
      assert.equal(code, 0, stderr);
      const by = (await store.getRun(canary.runId))?.canary?.request?.by ?? '?';
      const lines = stdout.trimEnd().split('\n');
      assert.deepEqual(lines.slice(2), [
        `  promoted: promoted by ${by} at step 1 of 2 (10% of traffic), before the remaining steps`,
        '  now live',
        `  service ${SERVICE} serves ${CANARY_REV} 100% (run ${canary.runId})`,
      ]);
      assert.match(
        lines[0] ?? '',
        new RegExp(`^run ${canary.runId}: promote recorded, requested by `),
      );
      assert.doesNotMatch(stderr, /follow it with/, 'nothing left to follow');
      assert.equal((await store.getRun(stable.runId))?.status, 'replaced');
    } finally {
      stopPretending();
    }
  });

  it('a wait that ends first says the request stays recorded and who carries it out (exit 0)', async () => {
    const stopPretending = pretendStackRuns(dataDir);
    try {
      const { code, stdout, stderr } = await recdeployProcess([
        'abort',
        canary.runId,
        '--wait-s',
        '1',
        '--data-dir',
        dataDir,
      ]);
      assert.equal(code, 0, stderr);
      assert.equal(
        stdout.trimEnd().split('\n').at(-1),
        `  not carried out within 1 s; the request stays recorded in the run: the local stack (pid ${process.pid}) carries it out at its next canary tick (every 5 s)`,
      );
      assert.match(
        stderr,
        new RegExp(`follow it with: recdeploy status ${canary.runId} --watch\n$`),
      );
      assert.equal((await store.getRun(canary.runId))?.canary?.request?.action, 'abort');
    } finally {
      stopPretending();
    }
  });

  it('status shows the canary as stored, with the request once recorded', async () => {
    const recorded = await recdeploy('abort', canary.runId, '--no-wait', '--data-dir', dataDir);
    assert.equal(recorded.code, 0, recorded.stderr);
    const { code, stdout, stderr } = await recdeploy('status', canary.runId, '--data-dir', dataDir);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    const start = lines.indexOf(
      `canary    holding step 1 of 2 (10% of traffic): revision ${CANARY_REV} against stable ${STABLE_REV} (run ${stable.runId})`,
    );
    assert.ok(start > 0, stdout);
    assert.match(
      lines[start + 2] ?? '',
      /^ {2}step 1\/2 {2}10% {2}held \d+ s {2}canary: 1 203 req, errors 0\.2%, p50 4 ms, p99 19 ms, degenerate - {2}\| stable: 10 811 req, errors 0\.1%, p50 4 ms, p99 18 ms, degenerate - {2}→ judging… every metric within its limit so far; held \d+ s of 300 s$/,
    );
    assert.match(
      lines[start + 3] ?? '',
      /^ {2}request {3}abort by \S+ via recdeploy abort at .+: waiting for the next canary tick$/,
    );
    assert.match(stdout, /^ {2}traffic {3}10% of service rec-recs-home; observed /m);
  });

  it('refuses a run not in a canary, or whose canary is ending (exit 3), changing nothing', async () => {
    const notCanary = await recdeployProcess(['abort', stable.runId, '--data-dir', dataDir]);
    assert.equal(notCanary.code, 3);
    assert.equal(notCanary.stdout, '');
    assert.equal(
      notCanary.stderr,
      `recdeploy: run ${stable.runId} is live, not in a canary rollout; nothing to abort\n`,
    );

    // An abort a tick has decided but not finished: the canary is ending.
    const state = canary.canary;
    assert.ok(state);
    const now = new Date();
    const asked = requestCanaryAction(
      state,
      { action: 'abort', at: now.toISOString(), by: 'bob' },
      now,
    );
    const aborting = await store.updateCanary({
      runId: canary.runId,
      expectSeq: state.seq,
      canary: applyOperatorRequest(asked, now),
    });
    assert.equal(aborting.run.canary?.phase, 'aborting');
    const ending = await recdeployProcess(['promote', canary.runId, '--data-dir', dataDir]);
    assert.equal(ending.code, 3);
    assert.equal(
      ending.stderr,
      `recdeploy: the canary of revision ${CANARY_REV} is aborting (aborted by bob at step 1 of 2 (10% of traffic)): nothing to promote\n`,
    );
    assert.deepEqual(await store.getRun(canary.runId), aborting.run);
    assert.deepEqual(await store.getRun(stable.runId), stable);

    const typo = await recdeploy('promote', 'recs-home-train-02', '--data-dir', dataDir);
    assert.equal(typo.code, 1);
    assert.equal(
      typo.stderr,
      `recdeploy: run recs-home-train-02 not found in ${path.join(dataDir, 'runs.db')}; did you mean recs-home-train-002, recs-home-train-001?`,
    );
  });

  it('--json prints one object: the request, where the canary stands, what serves, the run', async () => {
    const { code, stdout, stderr } = await recdeployProcess([
      'promote',
      canary.runId,
      '--no-wait',
      '--json',
      '--data-dir',
      dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const report = JSON.parse(stdout) as Record<string, unknown> & { run: RunDocument };
    const stored = await store.getRun(canary.runId);
    assert.deepEqual(report.run, stored);
    assert.deepEqual(
      Object.fromEntries(
        ['runId', 'action', 'requestedBy', 'requestedAt', 'carriedOut', 'status', 'phase'].map(
          (key) => [key, report[key]],
        ),
      ),
      {
        runId: canary.runId,
        action: 'promote',
        requestedBy: stored?.canary?.request?.by,
        requestedAt: stored?.canary?.request?.at,
        carriedOut: false,
        status: 'canary',
        phase: 'holding',
      },
    );
    assert.match(String(report.carrier), /^no local stack is running on /);
    assert.deepEqual(report.published, []);
    assert.equal(report.waitedS, undefined, 'it did not wait');
    assert.deepEqual((report.serving as { traffic: unknown }).traffic, [
      { revision: STABLE_REV, percent: 90, runId: stable.runId },
      { revision: CANARY_REV, percent: 10, runId: canary.runId },
    ]);
  });
});
