/**
 * A serving.db written by schema version 2 (live revision in
 * serving_services, no splits, no metrics), opened by this version: the
 * live revision becomes a 100% share, and nothing else changes. The v2 file
 * is written here with version 2's own SQL, as that program wrote it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { LocalProcessPlatform } from '../../shared/adapters/local/local-process-platform.js';
import { LocalRevisionMetrics } from '../../shared/adapters/local/local-revision-metrics.js';
import { LOCAL_SERVING_SCHEMA_VERSION } from '../../shared/adapters/local/local-serving-schema.js';
import { localRevisionSpec } from '../support/local-revision-spec.js';

const V2_SCHEMA = `
  CREATE TABLE serving_services (
    name TEXT PRIMARY KEY, router_port INTEGER NOT NULL UNIQUE, live_revision TEXT,
    previous_revision TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  CREATE TABLE serving_revisions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL REFERENCES serving_services(name),
    revision TEXT NOT NULL, runtime TEXT NOT NULL, spec TEXT NOT NULL, port INTEGER NOT NULL UNIQUE,
    pid INTEGER, owner TEXT,
    state TEXT NOT NULL CHECK (state IN ('starting', 'ready', 'stopped', 'failed')),
    log_file TEXT NOT NULL, served_at TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    UNIQUE (service, revision));
  CREATE TABLE serving_traffic_changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, service TEXT NOT NULL REFERENCES serving_services(name),
    revision TEXT NOT NULL, from_revision TEXT, at TEXT NOT NULL);
  PRAGMA user_version = 2;
`;

describe('local serving state: migration from schema version 2', () => {
  let dir: string;
  let file: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-migration-'));
    file = path.join(dir, 'serving.db');
    const db = new Database(file);
    db.exec(V2_SCHEMA);
    const at = '2026-01-01T00:00:00.000Z';
    const service = db.prepare(
      `INSERT INTO serving_services VALUES (?, ?, ?, ?, '${at}', '${at}')`,
    );
    service.run('recs', 40001, 'recs-r2', 'recs-r1');
    service.run('cart', 40002, null, null); // deployed, never promoted
    const revision = db.prepare(
      `INSERT INTO serving_revisions
         (service, revision, runtime, spec, port, state, log_file, served_at, created_at, updated_at)
       VALUES (?, ?, 'ann-serving', ?, ?, ?, '/logs/x.log', ?, '${at}', '${at}')`,
    );
    const spec = (svc: string, suffix: string) =>
      JSON.stringify(localRevisionSpec(svc, suffix, '/b'));
    revision.run('recs', 'recs-r1', spec('recs', 'r1'), 40011, 'stopped', at);
    revision.run('recs', 'recs-r2', spec('recs', 'r2'), 40012, 'ready', at);
    revision.run('cart', 'cart-r1', spec('cart', 'r1'), 40021, 'ready', null);
    const change = db.prepare(
      'INSERT INTO serving_traffic_changes (service, revision, from_revision, at) VALUES (?, ?, ?, ?)',
    );
    change.run('recs', 'recs-r1', null, at);
    change.run('recs', 'recs-r2', 'recs-r1', at);
    db.close();
  });

  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gives the live revision 100%, keeps previous revision and change log, and reads as quiet', async () => {
    const platform = new LocalProcessPlatform({
      file,
      logsDir: path.join(dir, 'logs'),
      servingCommand: { command: 'unused', args: [] },
    });
    try {
      const recs = await platform.describe('recs');
      assert.equal(recs?.liveRevision, 'recs-r2');
      assert.equal(recs?.previousRevision, 'recs-r1');
      assert.deepEqual(
        recs?.targets.map((t) => [t.revision, t.percent]),
        [['recs-r2', 100]],
      );
      const cart = await platform.describe('cart');
      assert.equal(cart?.liveRevision, undefined);
      assert.deepEqual(
        cart?.targets.map((t) => [t.revision, t.percent]),
        [['cart-r1', 0]],
      );
      assert.deepEqual(
        platform.trafficChanges('recs').map((c) => [c.fromRevision ?? null, c.revision]),
        [
          [null, 'recs-r1'],
          ['recs-r1', 'recs-r2'],
        ],
      );
      assert.deepEqual(platform.trafficHistory('recs'), []);
      await assert.rejects(platform.discardRevision('recs', 'recs-r2'), {
        code: 'PLATFORM.REJECTED',
        message:
          'revision recs-r2 of service recs has 100% of the traffic; promote or roll back to another revision before discarding it',
      });
    } finally {
      await platform.close();
    }
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), LOCAL_SERVING_SCHEMA_VERSION);
      assert.equal(LOCAL_SERVING_SCHEMA_VERSION, 3);
      assert.deepEqual(db.prepare('SELECT * FROM serving_traffic').all(), [
        { service: 'recs', revision: 'recs-r2', percent: 100 },
      ]);
    } finally {
      db.close();
    }

    const metrics = new LocalRevisionMetrics(file);
    try {
      const window = { from: new Date(Date.now() - 60_000), to: new Date() };
      const reading = await metrics.read('recs', ['recs-r2', 'recs-r1'], window);
      assert.deepEqual(reading.revisions, [
        { revision: 'recs-r2', requests: 0, errors: 0, answers: { inspected: 0, degenerate: 0 } },
        { revision: 'recs-r1', requests: 0, errors: 0, answers: { inspected: 0, degenerate: 0 } },
      ]);
    } finally {
      await metrics.close();
    }
  });

  it('migrates a version-2 file that a reader opens first', async () => {
    const metrics = new LocalRevisionMetrics(file);
    await metrics.close();
    const db = new Database(file, { readonly: true });
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 3);
      assert.deepEqual(db.prepare('SELECT revision, percent FROM serving_traffic').all(), [
        { revision: 'recs-r2', percent: 100 },
      ]);
    } finally {
      db.close();
    }
  });
});
