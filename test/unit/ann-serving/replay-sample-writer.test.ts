import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import { parseReplaySample, type ReplaySample } from '../../../shared/ann/bundle/replay-sample.js';
import { ReplaySampler } from '../../../services/ann-serving/src/replay/replay-sampler.js';
import { openReplaySampleStore } from '../../../services/ann-serving/src/replay/replay-sample-store.js';
import {
  ReplaySampleWriter,
  type WriteTimer,
} from '../../../services/ann-serving/src/replay/replay-sample-writer.js';

/** A timer the test fires by hand; it remembers every delay it was asked for. */
class ManualTimer implements WriteTimer {
  readonly delays: number[] = [];
  private pending: (() => void) | undefined;

  set(callback: () => void, ms: number): unknown {
    this.delays.push(ms);
    this.pending = callback;
    return callback;
  }

  clear(handle: unknown): void {
    if (this.pending === handle) this.pending = undefined;
  }

  get armed(): boolean {
    return this.pending !== undefined;
  }

  /** Runs the pending callback, as the interval elapsing would, and lets its write finish. */
  async fire(): Promise<void> {
    const callback = this.pending;
    assert.ok(callback, 'no timer armed');
    this.pending = undefined;
    callback();
    // The write is a few file-system calls: wait until the writer has re-armed its timer.
    for (let i = 0; i < 200 && !this.pending; i++) await new Promise((r) => setTimeout(r, 5));
  }
}

async function readSample(file: string): Promise<ReplaySample> {
  const parsed = parseReplaySample(await readFile(file, 'utf8'));
  assert.ok('sample' in parsed, 'problem' in parsed ? parsed.problem : '');
  return parsed.sample;
}

describe('replay sample writer', () => {
  let dir: string;
  let file: string;
  let logger: RecordingLogger;
  let timer: ManualTimer;
  let results: string[];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'replay-writer-'));
    file = path.join(dir, 'endpoint', 'rev-1.json');
    logger = new RecordingLogger();
    timer = new ManualTimer();
    results = [];
  });

  afterEach(() => rm(dir, { recursive: true, force: true }));

  function writerFor(sampler: ReplaySampler): ReplaySampleWriter {
    return new ReplaySampleWriter(sampler, openReplaySampleStore({ kind: 'local', path: file }), {
      intervalMs: 60_000,
      logger,
      timer,
      onWrite: (result) => results.push(result),
    });
  }

  it('writes once per interval, only when the sample changed, creating the directory, and once more on close', async () => {
    const sampler = new ReplaySampler({ capacity: 4, modelName: 'recommender' });
    const writer = writerFor(sampler);
    writer.start();
    assert.deepEqual(timer.delays, [60_000]);

    await timer.fire();
    assert.deepEqual(results, [], 'nothing served yet: nothing written');
    assert.deepEqual(await readdir(dir), []);

    sampler.record([{ user_id: 1 }, { user_id: 2 }], {});
    sampler.record([{ user_id: 3 }], {});
    assert.deepEqual(results, [], 'no write between intervals, however many predicts');
    await timer.fire();
    assert.deepEqual(results, ['ok']);
    const first = await readSample(file);
    assert.equal(first.seen, 3);
    assert.deepEqual(await readdir(path.dirname(file)), ['rev-1.json'], 'no temporary file left');

    await timer.fire();
    assert.deepEqual(results, ['ok'], 'unchanged: not written again');
    assert.deepEqual(timer.delays, [60_000, 60_000, 60_000, 60_000]);

    sampler.record([{ user_id: 4 }], {});
    await writer.close();
    assert.deepEqual(results, ['ok', 'ok'], 'the last change is written on close');
    assert.equal((await readSample(file)).seen, 4);
    assert.equal(timer.armed, false, 'no write after close');
  });

  it('logs a failed write as one warning without instance data, and retries it at the next interval', async () => {
    const sampler = new ReplaySampler({ capacity: 4, modelName: 'recommender' });
    const writer = writerFor(sampler);
    // A directory where the file belongs: the rename fails.
    await mkdir(file, { recursive: true });
    writer.start();
    sampler.record([{ email: 'customer@example.com' }], {});
    await timer.fire();
    assert.deepEqual(results, ['error']);
    const warnings = logger.lines.filter((line) => line.level === 'warn');
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /write failed/);
    assert.ok(!JSON.stringify(warnings).includes('customer@example.com'));
    assert.deepEqual(
      await readdir(path.dirname(file)),
      ['rev-1.json'],
      'the temporary file is removed',
    );

    await rm(file, { recursive: true });
    await timer.fire();
    assert.deepEqual(results, ['error', 'ok'], 'retried without a new predict');
    assert.deepEqual((await readSample(file)).instances, [{ email: 'customer@example.com' }]);
    await writer.close();
  });

  it('seeds the sampler from the file a previous process wrote, and does not rewrite it unchanged', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(
      file,
      JSON.stringify({
        format_version: 1,
        model_name: 'recommender',
        written_at: '2026-12-06T21:00:00.000Z',
        sampling_since: '2026-12-01T00:00:00.000Z',
        seen: 120,
        capacity: 4,
        instances: [{ user_id: 7 }, { user_id: 8 }],
      }),
    );
    const sampler = new ReplaySampler({ capacity: 4, modelName: 'recommender' });
    const writer = writerFor(sampler);
    await writer.restore();
    writer.start();
    await timer.fire();
    assert.deepEqual(results, []);
    sampler.record([{ user_id: 9 }], {});
    await writer.close();
    const sample = await readSample(file);
    assert.equal(sample.seen, 121);
    assert.equal(sample.sampling_since, '2026-12-01T00:00:00.000Z');
    assert.deepEqual(sample.instances.slice(0, 2), [{ user_id: 7 }, { user_id: 8 }]);
  });

  it('ignores a corrupt file with a warning (no content in the log) and starts a new sample', async () => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '{"format_version":1,"instances":[{"email":"customer@example.com"');
    const sampler = new ReplaySampler({ capacity: 4, modelName: 'recommender' });
    const writer = writerFor(sampler);
    await writer.restore();
    assert.equal(sampler.size, 0);
    const warning = logger.lines.find((line) => line.level === 'warn');
    assert.match(warning?.message ?? '', /corrupt; ignored/);
    assert.ok(!JSON.stringify(logger.lines).includes('customer@example.com'));
    sampler.record([{ user_id: 1 }], {});
    await writer.close();
    assert.equal((await readSample(file)).seen, 1);
  });
});
