/**
 * How a rejected or ignored delivery is recorded (shared/usecases/rejected-events.ts),
 * on a real SQLite run store: deliveries without an event id are kept apart
 * by a digest of what arrived (a redelivery still collapses), and an ignored
 * PipelineJob entry is recorded under EVENT.IGNORED with its kind and logged
 * at warn, where the stack shows it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseTrainingCompleted } from '@recdeploy/events';
import { RecordingLogger } from '@recdeploy/shared';
import { SqliteRunStore } from '@recdeploy/shared/local';
import { recordRejection, sourceOf } from '../../shared/usecases/rejected-events.js';
import { messagePublished } from '../fixtures/events/deliveries.js';
import { pipelineLogEntryWithState } from '../fixtures/events/examples.js';

describe('recording rejected and ignored deliveries', () => {
  let dir = '';
  let runStore: SqliteRunStore;
  const logger = new RecordingLogger();

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-rejections-'));
    runStore = new SqliteRunStore({ file: path.join(dir, 'runs.db') });
  });
  after(async () => {
    await runStore.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** What the register step does with a delivery it cannot use. */
  async function deliver(ce: unknown): Promise<void> {
    const parsed = parseTrainingCompleted(ce);
    assert.ok(!parsed.ok, 'expected a rejection');
    await recordRejection({ runStore, logger }, parsed.rejection, sourceOf(ce));
  }

  it('keeps deliveries without an event id apart, and a redelivery of one in its row', async () => {
    const withoutId = (n: number): Record<string, unknown> => {
      const ce: Record<string, unknown> = { ...messagePublished({ hello: n }) };
      delete ce.id;
      return ce;
    };
    await deliver(withoutId(1));
    await deliver(withoutId(2));
    await deliver(withoutId(1));
    const rows = (await runStore.listRejectedEvents()).filter((e) =>
      e.eventId.startsWith('no-id:'),
    );
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0]?.eventId, rows[1]?.eventId);
    for (const row of rows) {
      assert.match(row.eventId, /^no-id:[0-9a-f]{16}$/);
      assert.equal(row.kind, 'malformed Pub/Sub delivery');
      assert.match(row.reason, /^a malformed Pub\/Sub delivery: CloudEvent id/);
    }
  });

  it('records an ignored PipelineJob entry under EVENT.IGNORED, with its kind, logged at warn', async () => {
    await deliver(
      messagePublished(pipelineLogEntryWithState('PIPELINE_STATE_CANCELLED'), { id: '9001' }),
    );
    const row = (await runStore.listRejectedEvents()).find((e) => e.eventId === '9001');
    assert.equal(row?.code, 'EVENT.IGNORED');
    assert.equal(row?.kind, 'Vertex PipelineJob in state CANCELLED');
    assert.match(row?.reason ?? '', /^run projects\/.*\/pipelineJobs\/.*: pipeline job state/);
    const line = logger.lines.find((l) => l.meta.eventId === '9001');
    assert.equal(line?.level, 'warn');
    assert.match(line?.message ?? '', /^ignored: /);
  });
});
