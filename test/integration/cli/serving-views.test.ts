/**
 * `recdeploy runs` and `recdeploy status` read what serves from the serving
 * record, on a real SQLite run store written through the RunStore API as
 * verify writes it: a newer run going live replaces the older one in the
 * same transaction that records the platform's traffic.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { liveRun, recdeploy, recdeployProcess } from './cli-harness.js';

const SERVICE = 'rec-recs-home';

describe('recdeploy runs and status read the serving record', function () {
  this.timeout(30_000);
  let dataDir: string;
  let store: SqliteRunStore;
  let one: RunDocument;
  let two: RunDocument;

  beforeEach(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-serving-'));
    store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    one = await live(1);
    two = await live(2);
  });
  afterEach(async () => {
    await store.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  function live(n: number): Promise<RunDocument> {
    return liveRun(store, sampleIdentity({ trainingRunId: `train-${n}`, runNumber: n }), {
      runtime: 'ann-serving',
      mode: 'ann',
      service: SERVICE,
      revision: `${SERVICE}-r${n}`,
      tagUrl: `http://127.0.0.1:4000${n}`,
      url: 'http://127.0.0.1:40000',
    });
  }

  it('runs: TRAFFIC from the record, the replaced run with the run that replaced it', async () => {
    const { code, stdout, stderr } = await recdeployProcess(['runs', '--data-dir', dataDir]);
    assert.equal(code, 0, stderr);
    const rows = stdout
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    assert.deepEqual(rows[0], [
      'RUN',
      'STATUS',
      'ENDPOINT',
      'RUN NO',
      'RUNTIME',
      'REVISION',
      'TRAFFIC',
      'AGE',
      'NOTES',
    ]);
    const byRun = new Map(rows.slice(1).map((row) => [row[0], row]));
    assert.deepEqual(byRun.get(two.runId)?.slice(1, 7), [
      'live',
      'recs-home',
      '2',
      'ann-serving/ann',
      `${SERVICE}-r2`,
      '100%',
    ]);
    assert.deepEqual(byRun.get(one.runId)?.slice(1, 7), [
      'replaced',
      'recs-home',
      '1',
      'ann-serving/ann',
      `${SERVICE}-r1`,
      '0%',
    ]);
    assert.equal(byRun.get(one.runId)?.[8], `replaced by run ${two.runId}`);
  });

  it('runs --status live: only the run that serves; --status replaced: the one it replaced', async () => {
    const liveOnly = await recdeploy('runs', '--status', 'live', '--json', '--data-dir', dataDir);
    assert.equal(liveOnly.code, 0, liveOnly.stderr);
    assert.deepEqual(
      (JSON.parse(liveOnly.stdout) as RunDocument[]).map((run) => run.runId),
      [two.runId],
    );
    const replaced = await recdeploy(
      'runs',
      '--status',
      'replaced',
      '--json',
      '--data-dir',
      dataDir,
    );
    const [stored] = JSON.parse(replaced.stdout) as RunDocument[];
    assert.equal(stored?.runId, one.runId);
    assert.equal(stored?.replacedBy, two.runId);
  });

  it('status of a replaced run: by whom, its share (0%) and what serves instead', async () => {
    const { code, stdout, stderr } = await recdeployProcess([
      'status',
      one.runId,
      '--data-dir',
      dataDir,
    ]);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n');
    assert.match(lines[1] ?? '', /^status {4}replaced \(since \d+s ago\)$/);
    assert.equal(lines[2], `replaced  by run ${two.runId}: a newer run took its traffic`);
    assert.match(lines[3] ?? '', new RegExp(`^reason {4}replaced by run ${two.runId}: `));
    const record = await store.getServingRecord(SERVICE);
    const traffic = lines.find((line) => line.startsWith('  traffic   '));
    assert.equal(
      traffic?.replace(/\d+s ago/g, 'Ns ago'),
      `  traffic   0%: service ${SERVICE} serves revision ${SERVICE}-r2 (run ${two.runId}) since ${record?.since} (Ns ago); observed Ns ago`,
    );
  });

  it('status --watch ends on a replaced run, exit 1 with why', async () => {
    const { code, stdout, stderr } = await recdeploy(
      'status',
      one.runId,
      '--watch',
      '--data-dir',
      dataDir,
    );
    assert.equal(code, 1);
    assert.match(stdout, /^run {7}recs-home-train-1\nstatus {4}replaced /);
    assert.match(
      stderr,
      new RegExp(`\\nrecdeploy: run ${one.runId} ended replaced: replaced by run ${two.runId}: `),
    );
  });
});
