/**
 * `recdeploy runs` and `status` with -o table|json|yaml on a real SQLite run
 * store, and colour: only on a terminal, so a pipe never gets escape codes
 * (not even with CI set, which picocolors alone would colour), FORCE_COLOR=1
 * gets them, NO_COLOR wins over it. The colour checks run real child
 * processes, whose stdout is a pipe.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { runKey, type RunDocument } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { sampleIdentity } from '../../fixtures/runs.js';
import { liveRun, recdeploy, recdeployProcess, SERVING } from './cli-harness.js';

const ESC = '\u001b';

describe('recdeploy runs/status: output formats and colour', function () {
  this.timeout(60_000);
  let dataDir: string;
  let runs: readonly RunDocument[];
  const LIVE = runKey(sampleIdentity());

  before(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-output-'));
    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    try {
      await liveRun(store, sampleIdentity(), SERVING);
      await store.createRun(sampleIdentity({ trainingRunId: 'train-002', runNumber: 2 }));
      runs = await store.listRuns();
    } finally {
      await store.close();
    }
  });
  after(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('-o json and --json print the documents; -o yaml the same documents as YAML', async () => {
    const json = await recdeploy('runs', '-o', 'json', '--data-dir', dataDir);
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), runs);
    assert.equal((await recdeploy('runs', '--json', '--data-dir', dataDir)).stdout, json.stdout);
    const yaml = await recdeploy('runs', '--output', 'yaml', '--data-dir', dataDir);
    assert.equal(yaml.code, 0, yaml.stderr);
    assert.deepEqual(YAML.parse(yaml.stdout), runs);
    assert.match(yaml.stdout, /^- trainingRunId: train-002\n/);

    const one = await recdeploy('status', LIVE, '-o', 'yaml', '--data-dir', dataDir);
    assert.equal(one.code, 0, one.stderr);
    assert.deepEqual(
      YAML.parse(one.stdout),
      runs.find((run) => run.runId === LIVE),
    );
  });

  it('-o table is the default; a bad format or -o with --json is a usage error (exit 2)', async () => {
    const table = await recdeploy('runs', '-o', 'table', '--data-dir', dataDir);
    assert.equal(table.stdout, (await recdeploy('runs', '--data-dir', dataDir)).stdout);
    assert.match(table.stdout, /^RUN\s+STATUS/);
    const bad = await recdeploy('runs', '-o', 'xml', '--data-dir', dataDir);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /argument 'xml' is invalid\. Allowed choices are table, json, yaml/);
    const both = await recdeploy('status', LIVE, '-o', 'yaml', '--json', '--data-dir', dataDir);
    assert.equal(both.code, 2);
    assert.match(both.stderr, /option '--json' cannot be used with option '-o, --output <format>'/);
  });

  it('a pipe gets no escape codes, even with CI set; FORCE_COLOR=1 colours statuses; NO_COLOR wins', async () => {
    const piped = await recdeployProcess(['runs', '--data-dir', dataDir], { CI: 'true' });
    assert.equal(piped.code, 0, piped.stderr);
    assert.match(piped.stdout, /recs-home-train-001\s+live\s/);
    assert.ok(!piped.stdout.includes(ESC), piped.stdout);

    const forced = await recdeployProcess(['runs', '--data-dir', dataDir], { FORCE_COLOR: '1' });
    assert.equal(forced.code, 0, forced.stderr);
    // live in green; the columns stay aligned (the codes take no width).
    assert.ok(forced.stdout.includes(`${ESC}[32mlive${ESC}[39m`), forced.stdout);
    const plainLines = piped.stdout.split('\n');
    const strip = (line: string) => line.replace(new RegExp(`${ESC}\\[\\d+m`, 'g'), '');
    assert.deepEqual(
      forced.stdout
        .split('\n')
        .map(strip)
        .map((line) => line.replace(/\d+s\s*$/, '')),
      plainLines.map((line) => line.replace(/\d+s\s*$/, '')),
    );
    const status = await recdeployProcess(['status', LIVE, '--data-dir', dataDir], {
      FORCE_COLOR: '1',
    });
    assert.match(status.stdout, new RegExp(`\\nstatus {4}${ESC}\\[32mlive${ESC}\\[39m \\(since`));

    const both = await recdeployProcess(['runs', '--data-dir', dataDir], {
      FORCE_COLOR: '1',
      NO_COLOR: '1',
    });
    assert.equal(both.code, 0, both.stderr);
    assert.ok(!both.stdout.includes(ESC), both.stdout);
  });
});
