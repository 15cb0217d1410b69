/**
 * Live metrics of a canary against its stable revision, end to end: real
 * ann-serving processes behind the real router, a 50/50 split, open-loop
 * load, and LocalRevisionMetrics reading serving.db through its own
 * connection. The canary's bundle injects test faults (10% of predict
 * requests fail, every answer +40 ms), so its errors and latency are known.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RevisionSpec } from '@recdeploy/shared';
import { LocalProcessPlatform } from '../../shared/adapters/local/local-process-platform.js';
import { LocalRevisionMetrics } from '../../shared/adapters/local/local-revision-metrics.js';
import type { RevisionMetricsReading } from '../../shared/ports/revision-metrics.port.js';
import { TINY_EXAMPLES, writeTinyBundle } from '../support/ann/tiny-bundle.js';
import { allowTestFaults, copyBundleWithTestFaults } from '../support/ann-serving/test-faults.js';
import { ANN_SERVING_SOURCE_COMMAND, localRevisionSpec } from '../support/local-revision-spec.js';
import { startLoad, type LoadReport } from '../support/stack/load-generator.js';

const SOURCE_COMMAND = ANN_SERVING_SOURCE_COMMAND;
const SERVICE = 'recs';
const STABLE = 'recs-stable';
const CANARY = 'recs-canary';

describe('LocalRevisionMetrics (router-recorded live metrics per revision)', function () {
  this.timeout(120_000);
  let dir: string;
  let platform: LocalProcessPlatform;
  let metrics: LocalRevisionMetrics;
  let serviceUrl: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'recdeploy-metrics-'));
    const stableBundle = path.join(dir, 'stable-bundle');
    await writeTinyBundle(stableBundle);
    const canaryBundle = await copyBundleWithTestFaults(stableBundle, {
      error_ratio: 0.1,
      extra_latency_ms: 40,
    });
    platform = new LocalProcessPlatform({
      file: path.join(dir, 'serving.db'),
      logsDir: path.join(dir, 'logs'),
      servingCommand: SOURCE_COMMAND,
      readyTimeoutMs: 30_000,
      stopTimeoutMs: 5_000,
      readyPollIntervalMs: 50,
    });
    // MAX_K above the 20-product catalogue, so a request may ask for more than there is.
    const spec = (suffix: string, bundle: string): RevisionSpec => {
      const base = localRevisionSpec(SERVICE, suffix, bundle);
      return { ...base, env: { ...base.env, MAX_K: '50' } };
    };
    serviceUrl = (await platform.deployRevision(spec('stable', stableBundle))).serviceUrl;
    await platform.promote(SERVICE, STABLE);
    await platform.deployRevision(allowTestFaults(spec('canary', canaryBundle)));
    fs.rmSync(canaryBundle, { recursive: true, force: true }); // loaded: the process no longer reads it
    await platform.splitTraffic(SERVICE, [
      { revision: STABLE, percent: 50 },
      { revision: CANARY, percent: 50 },
    ]);
    // Another connection than the router's, as a controller in another process would open.
    metrics = new LocalRevisionMetrics(path.join(dir, 'serving.db'));
  });

  after(async () => {
    await metrics?.close();
    await platform?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the load inside whole seconds of its own, so its window holds exactly its requests. */
  async function loadWindow(
    body: object,
  ): Promise<{ report: LoadReport; reading: RevisionMetricsReading }> {
    const from = await untilNextSecond();
    const report = await startLoad({
      url: `${serviceUrl}/v1/models/recs:predict`,
      body: JSON.stringify(body),
      ratePerSecond: 100,
      durationMs: 3_000,
      timeoutMs: 10_000,
    }).done;
    const to = await untilNextSecond();
    let reading = await metrics.read(SERVICE, [STABLE, CANARY], { from, to });
    const deadline = Date.now() + 10_000;
    while (reading.through.getTime() < to.getTime() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      reading = await metrics.read(SERVICE, [STABLE, CANARY], { from, to });
    }
    assert.deepEqual(reading.through, to, 'complete up to the end of the window');
    return { report, reading };
  }

  it('counts each revision’s requests and errors as the clients saw them, with the canary’s latency', async () => {
    const { report, reading } = await loadWindow({ instances: TINY_EXAMPLES });
    assert.equal(report.sent, 300);
    assert.equal(
      Object.values(report.byStatus).reduce((a, b) => a + b, 0),
      300,
    );
    const [stable, canary] = reading.revisions;
    const sent = (revision: string) => report.byRevision[revision] ?? { requests: 0, failed: 0 };
    assert.equal(stable?.revision, STABLE);
    assert.equal(stable.requests, sent(STABLE).requests);
    assert.equal(stable.errors, 0);
    assert.equal(sent(STABLE).failed, 0);
    assert.equal(canary?.revision, CANARY);
    assert.equal(canary.requests, sent(CANARY).requests);
    assert.equal(canary.errors, sent(CANARY).failed);
    assert.equal(canary.errors, Math.floor(canary.requests * 0.1), 'exactly the injected share');
    assert.ok(canary.requests > 0 && stable.requests > 0);
    assert.ok((canary.latencyP99Ms ?? 0) > 40, `canary p99 ${canary.latencyP99Ms} ms`);
    assert.ok((canary.latencyP50Ms ?? 0) > 40, `canary p50 ${canary.latencyP50Ms} ms`);
    assert.equal(typeof stable.latencyP50Ms, 'number');
    // Two instances per request, counted as one answer each (the unit the cloud counts too).
    assert.deepEqual(stable.answers, { inspected: stable.requests, degenerate: 0 });
    assert.deepEqual(canary.answers, {
      inspected: canary.requests - canary.errors,
      degenerate: 0,
    });
  });

  it('counts degenerate answers: a k the catalogue cannot fill', async () => {
    const { report, reading } = await loadWindow({ instances: TINY_EXAMPLES, k: 25 });
    const [stable, canary] = reading.revisions;
    assert.equal(stable!.requests, report.byRevision[STABLE]?.requests);
    assert.equal(canary!.requests, report.byRevision[CANARY]?.requests);
    assert.deepEqual(stable!.answers, {
      inspected: stable!.requests,
      degenerate: stable!.requests,
    });
    const answered = canary!.requests - canary!.errors;
    assert.deepEqual(canary!.answers, { inspected: answered, degenerate: answered });
  });

  it('reads a window it has no data for as quiet, and no further than the last flush', async () => {
    const now = Date.now();
    const reading = await metrics.read(SERVICE, [CANARY, 'recs-unknown'], {
      from: new Date(now - 3_600_000 * 48),
      to: new Date(now - 3_600_000 * 47),
    });
    assert.deepEqual(reading.revisions, [
      { revision: CANARY, requests: 0, errors: 0, answers: { inspected: 0, degenerate: 0 } },
      {
        revision: 'recs-unknown',
        requests: 0,
        errors: 0,
        answers: { inspected: 0, degenerate: 0 },
      },
    ]);
    const future = await metrics.read(SERVICE, [CANARY], {
      from: new Date(now),
      to: new Date(now + 60_000),
    });
    assert.ok(future.through.getTime() <= Date.now() - 1_000, 'not after the last flush');
  });
});

/** Waits for the start of the next whole second (buckets are seconds) and returns it. */
async function untilNextSecond(): Promise<Date> {
  const next = (Math.floor(Date.now() / 1_000) + 1) * 1_000;
  while (Date.now() < next) await new Promise((resolve) => setTimeout(resolve, next - Date.now()));
  return new Date(next);
}
