/**
 * The RunStore contract for rejected events (registered by
 * run-store.contract.ts, so every adapter runs it): order, the first record
 * of a repeat kept, bounded text, the kind, and the bound per kind that keeps
 * a flood of one kind from evicting the others.
 */
import assert from 'node:assert/strict';
import type { RunStore } from '@recdeploy/shared';
import { at } from '../fixtures/runs.js';

export function rejectedEventsContract(getStore: () => RunStore): void {
  const store = (): RunStore => getStore();
  describe('rejected events', () => {
    it('lists them newest first, keeps the first record of a repeat, bounds the text', async () => {
      const base = { code: 'EVENT.INVALID', reason: 'bad json' };
      await store().recordRejectedEvent({
        ...base,
        eventId: 'e1',
        receivedAt: at(1).toISOString(),
      });
      await store().recordRejectedEvent({
        ...base,
        eventId: 'e2',
        receivedAt: at(2).toISOString(),
        source: 'training-completed',
        excerpt: '{"x":',
      });
      await store().recordRejectedEvent({
        ...base,
        eventId: 'e1',
        reason: 'again',
        receivedAt: at(3).toISOString(),
      });
      await store().recordRejectedEvent({
        ...base,
        eventId: 'e3',
        reason: 'r'.repeat(10_000),
        receivedAt: at(4).toISOString(),
      });
      const events = await store().listRejectedEvents();
      assert.deepEqual(
        events.map((e) => e.eventId),
        ['e3', 'e2', 'e1'],
      );
      assert.equal(events[0]?.reason.length, 2_000);
      assert.deepEqual(events[1], {
        ...base,
        eventId: 'e2',
        receivedAt: at(2).toISOString(),
        source: 'training-completed',
        excerpt: '{"x":',
      });
      assert.equal(events[2]?.reason, 'bad json');
      assert.deepEqual(
        (await store().listRejectedEvents(1)).map((e) => e.eventId),
        ['e3'],
      );
    });

    it('stores the kind (one line, at most 100 characters) and reads it back', async () => {
      await store().recordRejectedEvent({
        eventId: 'k1',
        code: 'EVENT.INVALID',
        kind: 'Cloud Audit Log entry',
        reason: 'a Cloud Audit Log entry (…) is not a training-completed message: …',
        receivedAt: at(1).toISOString(),
      });
      await store().recordRejectedEvent({
        eventId: 'k2',
        code: 'EVENT.IGNORED',
        kind: `Vertex\nPipelineJob ${'x'.repeat(300)}`,
        reason: 'r',
        receivedAt: at(2).toISOString(),
      });
      const [long, audit] = await store().listRejectedEvents();
      assert.equal(audit?.kind, 'Cloud Audit Log entry');
      assert.equal(long?.code, 'EVENT.IGNORED');
      assert.equal(long?.kind?.length, 100);
      assert.match(long?.kind ?? '', /^Vertex PipelineJob x+… \[\d+ more chars\]$/);
    });

    it('a flood of one kind keeps the newest 200 of it and leaves other kinds in place', async function () {
      // 400, twice the bound, keeps the emulator run short; sqlite-rejected-events.test.ts floods 2,000.
      this.timeout(120_000);
      const other = { code: 'EVENT.INVALID', kind: 'HTTP GET', reason: 'a GET' };
      await store().recordRejectedEvent({
        ...other,
        eventId: 'get-1',
        receivedAt: at(0).toISOString(),
      });
      // No kind: grouped by its code.
      await store().recordRejectedEvent({
        eventId: 'exists-1',
        code: 'EVENT.RUN_EXISTS',
        reason: 'another artifact',
        receivedAt: at(1).toISOString(),
      });
      const flood = 400;
      // In parallel batches: the Firestore emulator answers each write in milliseconds.
      for (let start = 0; start < flood; start += 50) {
        await Promise.all(
          Array.from({ length: Math.min(50, flood - start) }, (_, i) =>
            store().recordRejectedEvent({
              eventId: `poison-${start + i}`,
              code: 'EVENT.INVALID',
              kind: 'Cloud Audit Log entry',
              reason: 'poison',
              receivedAt: at(10 + start + i).toISOString(),
            }),
          ),
        );
      }
      const kept = await store().listRejectedEvents(500);
      const poison = kept.filter((e) => e.kind === 'Cloud Audit Log entry');
      // A store may let a group run a little over before it prunes it
      // (Firestore: 20, plus the writes racing the prune), never under.
      assert.ok(poison.length >= 200 && poison.length <= 270, `${poison.length} kept`);
      const newest = Array.from({ length: 200 }, (_, i) => `poison-${flood - 1 - i}`);
      assert.deepEqual(
        poison.slice(0, 200).map((e) => e.eventId),
        newest,
        'the newest 200 are kept',
      );
      assert.deepEqual(
        kept.filter((e) => !e.eventId.startsWith('poison-')).map((e) => e.eventId),
        ['exists-1', 'get-1'],
      );
    });
  });
}
