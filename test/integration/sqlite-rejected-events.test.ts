/**
 * The embedded store's bounds on rejected events, on real SQLite files: per
 * group (a flood of one kind of poison leaves the others in place), by age
 * (30 days before the newest), and the schema-3 index that keeps the
 * per-group prune off a table scan, also on a file upgraded from schema 2.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { RUN_STORE_SCHEMA_VERSION, SqliteRunStore } from '@recdeploy/shared/local';
import type { RejectedEvent } from '@recdeploy/shared';
import { T0, at } from '../fixtures/runs.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('SqliteRunStore: bounds on rejected events', function () {
  this.timeout(120_000);
  let dir = '';
  let fileCount = 0;
  const newFile = (): string => path.join(dir, `rejected-${++fileCount}.sqlite`);

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-rejected-'));
  });
  after(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const event = (eventId: string, kind: string | undefined, time: Date): RejectedEvent => ({
    eventId,
    code: 'EVENT.INVALID',
    reason: 'r',
    ...(kind === undefined ? {} : { kind }),
    receivedAt: time.toISOString(),
  });

  it('a flood of 2,000 of one kind leaves the earlier rejection of another kind in place', async () => {
    const store = new SqliteRunStore({ file: newFile() });
    try {
      await store.recordRejectedEvent(event('get-1', 'HTTP GET', at(0)));
      const started = process.hrtime.bigint();
      for (let i = 0; i < 2_000; i += 1) {
        await store.recordRejectedEvent(event(`poison-${i}`, 'Cloud Audit Log entry', at(10 + i)));
      }
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(`      2,000 rejected events recorded in ${ms.toFixed(0)} ms`);
      const kept = await store.listRejectedEvents(500);
      assert.equal(kept.length, 201);
      assert.equal(kept.at(-1)?.eventId, 'get-1');
      assert.equal(kept[0]?.eventId, 'poison-1999');
      assert.equal(kept[199]?.eventId, 'poison-1800');
    } finally {
      await store.close();
    }
  });

  it('drops rejections older than 30 days before the newest', async () => {
    const store = new SqliteRunStore({ file: newFile() });
    try {
      await store.recordRejectedEvent(event('old', 'HTTP GET', T0));
      await store.recordRejectedEvent(event('recent', 'non-JSON body', at(29 * DAY_MS)));
      assert.equal((await store.listRejectedEvents()).length, 2, '29 days apart: both kept');
      await store.recordRejectedEvent(event('new', 'non-JSON body', at(31 * DAY_MS)));
      assert.deepEqual(
        (await store.listRejectedEvents()).map((e) => e.eventId),
        ['new', 'recent'],
      );
    } finally {
      await store.close();
    }
  });

  it('upgrades a schema-2 file: its rejections are grouped by code when they have no kind', async () => {
    const file = newFile();
    const first = new SqliteRunStore({ file });
    await first.recordRejectedEvent(event('before-upgrade', undefined, T0));
    await first.close();
    const raw = new Database(file);
    raw.exec('DROP INDEX rejected_events_by_group');
    raw.pragma('user_version = 2');
    raw.close();

    const upgraded = new SqliteRunStore({ file });
    try {
      for (let i = 0; i < 205; i += 1) {
        await upgraded.recordRejectedEvent(event(`code-only-${i}`, undefined, at(10 + i)));
      }
      const kept = await upgraded.listRejectedEvents(500);
      // One group (EVENT.INVALID, no kind): the oldest, from before the upgrade, went first.
      assert.equal(kept.length, 200);
      assert.ok(!kept.some((e) => e.eventId === 'before-upgrade'));
    } finally {
      await upgraded.close();
    }
    const check = new Database(file, { readonly: true });
    try {
      // Upgraded through every later version too (4: freshness alerts).
      assert.equal(check.pragma('user_version', { simple: true }), RUN_STORE_SCHEMA_VERSION);
      const plan = check
        .prepare(
          `EXPLAIN QUERY PLAN SELECT seq FROM rejected_events
           WHERE coalesce(json_extract(doc, '$.kind'), json_extract(doc, '$.code')) = ?
           ORDER BY received_at DESC, seq DESC`,
        )
        .all('EVENT.INVALID') as { detail: string }[];
      assert.match(plan.map((row) => row.detail).join('\n'), /rejected_events_by_group/);
    } finally {
      check.close();
    }
  });
});
