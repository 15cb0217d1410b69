/**
 * Commands find the local stack's data directory the way git finds its
 * repository: run from a subdirectory of the checkout, `recdeploy runs` reads
 * the `.recdeploy/` above it (a real SQLite run store) and says so in one
 * stderr line; a relative --data-dir counts from the current directory; a
 * missing store's message says where the command looked. Real child
 * processes, each started in its own current directory.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteRunStore } from '@recdeploy/shared/local';
import {
  describeDataDir,
  findDataDirAbove,
  resolveDataDir,
  whyChosen,
} from '../../../cli/src/data-dir.js';
import { sampleIdentity } from '../../fixtures/runs.js';
import { recdeployProcess } from './cli-harness.js';

describe('recdeploy: the data directory, found like git', function () {
  this.timeout(60_000);
  let root: string;
  let dataDir: string;
  let below: string;

  before(async () => {
    root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-datadir-')));
    dataDir = path.join(root, '.recdeploy');
    below = path.join(root, 'services', 'ann-serving');
    fs.mkdirSync(below, { recursive: true });
    fs.mkdirSync(dataDir);
    const store = new SqliteRunStore({ file: path.join(dataDir, 'runs.db') });
    await store.createRun(sampleIdentity());
    await store.close();
  });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  it('from a subdirectory, runs reads the .recdeploy/ above and names it on stderr', async () => {
    const { code, stdout, stderr } = await recdeployProcess(['runs'], {}, below);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /\nrecs-home-train-001\s+received\s+recs-home\s/);
    assert.equal(stderr, `data directory ${dataDir} (found above the current directory)\n`);
  });

  it('a relative --data-dir counts from the current directory; a missing store says where it looked', async () => {
    const { code, stdout, stderr } = await recdeployProcess(
      ['status', 'recs-home-train-001', '--data-dir', '../nowhere'],
      {},
      below,
    );
    const nowhere = path.join(root, 'services', 'nowhere');
    assert.equal(code, 1);
    assert.equal(stdout, '');
    assert.equal(
      stderr,
      `recdeploy: run recs-home-train-001 not found: ${path.join(nowhere, 'runs.db')} does not exist; data directory ${nowhere} (from --data-dir); point to another with --data-dir <dir> or RECDEPLOY_DATA_DIR\n`,
    );
    assert.equal(fs.existsSync(nowhere), false, 'nothing created');
  });

  it('resolveDataDir: --data-dir, then $RECDEPLOY_DATA_DIR, then the nearest above, else ./.recdeploy', () => {
    const env = { RECDEPLOY_DATA_DIR: 'from-env' };
    assert.deepEqual(resolveDataDir({ flag: 'x', env, cwd: below }), {
      dir: path.join(below, 'x'),
      origin: 'flag',
    });
    assert.deepEqual(resolveDataDir({ env, cwd: below }), {
      dir: path.join(below, 'from-env'),
      origin: 'env',
    });
    assert.deepEqual(resolveDataDir({ env: {}, cwd: below }), { dir: dataDir, origin: 'found' });
    const atRoot = resolveDataDir({ env: {}, cwd: root });
    assert.deepEqual(atRoot, { dir: dataDir, origin: 'default' });
    assert.equal(describeDataDir(atRoot), `data directory ${dataDir} (in the current directory)`);
    // With no .recdeploy/ anywhere above (unless the machine has one in /tmp or /).
    const lone = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-cli-lone-'));
    try {
      if (findDataDirAbove(lone) === undefined) {
        const fresh = resolveDataDir({ env: {}, cwd: lone });
        assert.deepEqual(fresh, { dir: path.join(lone, '.recdeploy'), origin: 'default' });
        assert.equal(whyChosen(fresh), 'no .recdeploy/ in the current directory or above it');
      }
    } finally {
      fs.rmSync(lone, { recursive: true, force: true });
    }
  });
});
