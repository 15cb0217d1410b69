import assert from 'node:assert/strict';
import { RequestAbandonedError } from '../../../services/ann-serving/src/admission/abandoned.js';
import {
  MicroBatcher,
  OverloadedError,
  QueueFullError,
  type BatchAdmission,
  type BatchingOptions,
} from '../../../services/ann-serving/src/batching/micro-batcher.js';

/** A processor whose batches finish only when the test releases them. */
function gatedProcessor() {
  const batches: number[][] = [];
  const gates: (() => void)[] = [];
  let running = 0;
  let mostConcurrent = 0;
  const process = async (items: readonly number[]): Promise<number[]> => {
    batches.push([...items]);
    running++;
    mostConcurrent = Math.max(mostConcurrent, running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
    return items.map((item) => item * 10);
  };
  return {
    process,
    batches,
    release: () => gates.shift()?.(),
    get mostConcurrent() {
      return mostConcurrent;
    },
  };
}

/** The promise's error (a rejection observed at once, so none goes unhandled meanwhile). */
function errorOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/** Lets promise callbacks and a few event-loop turns run (a finished batch schedules the next on a later turn). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}
const options = (overrides: Partial<BatchingOptions> = {}): BatchingOptions => ({
  maxBatchSize: 4,
  timeoutMicros: 0,
  maxEnqueuedBatches: 2,
  ...overrides,
});

describe('ann-serving micro-batcher', () => {
  it('groups tasks submitted in the same turn into one batch, results back in order', async () => {
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      options(),
      (items) => Promise.resolve(items.map((item) => item * 10)),
      (size) => sizes.push(size),
    );
    const results = await Promise.all([
      batcher.submit([1]),
      batcher.submit([2, 3]),
      batcher.submit([4]),
    ]);
    assert.deepEqual(results, [[10], [20, 30], [40]]);
    assert.deepEqual(sizes, [4]);
  });

  it('runs one batch at a time; what arrives meanwhile forms the next batch, never above max size', async () => {
    const gate = gatedProcessor();
    const batcher = new MicroBatcher<number, number>(options(), gate.process);
    const first = batcher.submit([1]);
    await settle();
    assert.deepEqual(gate.batches, [[1]]);
    const later = [batcher.submit([2, 3]), batcher.submit([4, 5]), batcher.submit([6])];
    await settle();
    assert.equal(gate.batches.length, 1, 'nothing starts while a batch runs');
    gate.release();
    assert.deepEqual(await first, [10]);
    await settle();
    assert.deepEqual(gate.batches[1], [2, 3, 4, 5], 'the next batch fills up to maxBatchSize');
    gate.release();
    await settle();
    assert.deepEqual(gate.batches[2], [6]);
    gate.release();
    assert.deepEqual(await Promise.all(later), [[20, 30], [40, 50], [60]]);
    assert.equal(gate.mostConcurrent, 1);
  });

  it('sheds load once maxBatchSize × maxEnqueuedBatches items wait, and recovers', async () => {
    const gate = gatedProcessor();
    const batcher = new MicroBatcher<number, number>(options(), gate.process);
    const running = batcher.submit([0]);
    await settle();
    // The running batch does not count: 8 items may wait.
    const queued = [batcher.submit([1, 2, 3, 4]), batcher.submit([5, 6, 7])];
    assert.equal(batcher.pendingItems, 7);
    const accepted = batcher.submit([8]);
    assert.throws(() => batcher.submit([9]), QueueFullError);
    assert.throws(
      () => batcher.submit([9, 10]),
      (error: unknown) => {
        assert.ok(error instanceof QueueFullError);
        assert.equal(
          error.message,
          'The batch scheduling queue to which this task was submitted is full',
        );
        assert.equal(error.capacity, 8);
        return true;
      },
    );
    assert.equal(batcher.pendingItems, 8, 'refused tasks leave no trace');
    for (let i = 0; i < 3; i++) {
      gate.release();
      await settle();
    }
    assert.deepEqual(await Promise.all([running, ...queued, accepted]), [
      [0],
      [10, 20, 30, 40],
      [50, 60, 70],
      [80],
    ]);
    const again = batcher.submit([11]);
    await settle();
    gate.release();
    assert.deepEqual(await again, [110]);
  });

  it('a task larger than maxBatchSize runs as a batch of its own', async () => {
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      options({ maxBatchSize: 2, maxEnqueuedBatches: 4 }),
      (items) => Promise.resolve([...items]),
      (size) => sizes.push(size),
    );
    await Promise.all([batcher.submit([1, 2, 3]), batcher.submit([4])]);
    assert.deepEqual(sizes, [3, 1]);
  });

  it('waits up to timeoutMicros for a batch to fill while idle', async () => {
    const sizes: number[] = [];
    const batcher = new MicroBatcher<number, number>(
      options({ maxBatchSize: 10, timeoutMicros: 30_000 }),
      (items) => Promise.resolve([...items]),
      (size) => sizes.push(size),
    );
    const started = performance.now();
    const first = batcher.submit([1]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = batcher.submit([2]);
    await Promise.all([first, second]);
    assert.deepEqual(sizes, [2], 'a task 5 ms later joined the batch');
    assert.ok(performance.now() - started >= 25, 'the batch waited for its timeout');
  });

  it('a full batch does not wait for the timeout', async () => {
    const batcher = new MicroBatcher<number, number>(
      options({ maxBatchSize: 2, timeoutMicros: 5_000_000 }),
      (items) => Promise.resolve([...items]),
    );
    const started = performance.now();
    await Promise.all([batcher.submit([1]), batcher.submit([2])]);
    assert.ok(performance.now() - started < 1000);
  });

  it('a failing batch fails every task in it, and the batcher keeps serving', async () => {
    let calls = 0;
    const batcher = new MicroBatcher<number, number>(options(), (items) => {
      calls++;
      return calls === 1
        ? Promise.reject(new Error('encoder crashed'))
        : Promise.resolve([...items]);
    });
    const results = await Promise.allSettled([batcher.submit([1]), batcher.submit([2])]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['rejected', 'rejected'],
    );
    assert.deepEqual(await batcher.submit([3]), [3]);
  });

  it('refuses a processor that returns the wrong number of results', async () => {
    const batcher = new MicroBatcher<number, number>(options(), () => Promise.resolve([1]));
    await assert.rejects(batcher.submit([1, 2]), /returned 1 results for 2 items/);
  });

  it('drops a task whose client has gone when its batch is taken; the others run without it', async () => {
    const gate = gatedProcessor();
    const batcher = new MicroBatcher<number, number>(options(), gate.process);
    const running = batcher.submit([0]);
    await settle();
    const gone = new AbortController();
    const abandoned = errorOf(batcher.submit([1, 2], { signal: gone.signal }));
    const kept = batcher.submit([3]);
    gone.abort();
    gate.release();
    await settle();
    assert.deepEqual(gate.batches[1], [3], 'the abandoned items never reach the processor');
    const error = await abandoned;
    assert.ok(error instanceof RequestAbandonedError);
    assert.equal(error.stage, 'in_queue');
    gate.release();
    assert.deepEqual(await Promise.all([running, kept]), [[0], [30]]);
    assert.equal(batcher.pendingItems, 0);
  });

  it('runs no batch at all when every waiting task was abandoned, and keeps serving', async () => {
    const gate = gatedProcessor();
    const batcher = new MicroBatcher<number, number>(options(), gate.process);
    const running = batcher.submit([0]);
    await settle();
    const gone = new AbortController();
    const abandoned = [1, 2].map((n) => errorOf(batcher.submit([n], { signal: gone.signal })));
    gone.abort();
    gate.release();
    await running;
    await settle();
    assert.equal(gate.batches.length, 1);
    for (const error of await Promise.all(abandoned)) {
      assert.ok(error instanceof RequestAbandonedError);
    }
    const next = batcher.submit([5]);
    await settle();
    gate.release();
    assert.deepEqual(await next, [50]);
  });

  it("asks the admission policy at dequeue with each task's wait since arrival, and refuses the late ones", async () => {
    const asked: number[] = [];
    const durations: number[] = [];
    let watched: (() => number) | undefined;
    const admission: BatchAdmission = {
      watchQueue: (oldest) => (watched = oldest),
      // Refuses whatever waited 1 s or more (the arrival times below are set that far back).
      shedAtDequeue: (sojournMs) => {
        asked.push(sojournMs);
        return sojournMs >= 1000;
      },
      observeBatch: (ms) => durations.push(ms),
    };
    const gate = gatedProcessor();
    const batcher = new MicroBatcher<number, number>(options({ admission }), gate.process);
    assert.equal(watched?.(), 0, 'an empty queue has no age');
    const running = batcher.submit([0]);
    await settle();
    const now = performance.now();
    const late = errorOf(batcher.submit([1], { arrivedAt: now - 5000 }));
    const fresh = batcher.submit([2], { arrivedAt: now });
    assert.ok((watched?.() ?? 0) >= 5000, "the policy sees the oldest waiting task's age");
    gate.release();
    await settle();
    assert.deepEqual(gate.batches[1], [2]);
    const error = await late;
    assert.ok(error instanceof OverloadedError);
    assert.ok(error.waitedMs >= 5000);
    gate.release();
    assert.deepEqual(await Promise.all([running, fresh]), [[0], [20]]);
    assert.ok(asked.some((ms) => ms >= 5000) && asked.some((ms) => ms < 1000));
    assert.equal(durations.length, 2, 'told the duration of each batch that ran');
  });
});
