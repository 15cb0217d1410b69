/**
 * ann-serving's test-only fault switch and its degenerate-answer log lines,
 * against the real server (a child process) serving a real tiny bundle.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RecordingLogger } from '@recdeploy/shared';
import {
  INJECTED_FAULT_MESSAGE,
  loadTestFaults,
  parseTestFaults,
  TestFaultInjector,
} from '../../../services/ann-serving/src/faults/test-faults.js';
import { degenerateReason } from '../../../services/ann-serving/src/metrics/degenerate-answers.js';
import { TINY_EXAMPLES, writeTinyBundle } from '../../support/ann/tiny-bundle.js';
import { predict } from '../../support/ann-serving/raw-http.js';
import {
  runUntilExit,
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';
import {
  ALLOW_TEST_FAULTS,
  copyBundleWithTestFaults,
  writeTestFaults,
} from '../../support/ann-serving/test-faults.js';

const BODY = JSON.stringify({ instances: TINY_EXAMPLES });

describe('ann-serving test faults (real server, tiny bundle)', function () {
  this.timeout(60_000);
  let bundleDir: string;
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];

  before(async () => {
    bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-serving-faults-'));
    await writeTinyBundle(bundleDir);
    dirs.push(bundleDir);
  });

  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
  });

  after(() => {
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serve(dir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
    const server = await startServer({ MODEL_PATH: dir, MODEL_NAME: 'recs', ...env });
    servers.push(server);
    await waitUntilReady(server);
    return server;
  }

  async function faulty(faults: Parameters<typeof writeTestFaults>[1]): Promise<string> {
    const dir = await copyBundleWithTestFaults(bundleDir, faults);
    dirs.push(dir);
    return dir;
  }

  it('fails exactly floor(n·ratio) of n predict requests, evenly, and delays every answer', async () => {
    const dir = await faulty({ error_ratio: 0.05, extra_latency_ms: 40 });
    const server = await serve(dir, ALLOW_TEST_FAULTS);
    const failed: number[] = [];
    let fastest = Infinity;
    for (let i = 0; i < 100; i++) {
      const started = performance.now();
      const answer = await predict(server.port, BODY, 'recs');
      fastest = Math.min(fastest, performance.now() - started);
      if (answer.status === 200) continue;
      assert.equal(answer.status, 500, answer.body);
      assert.deepEqual(JSON.parse(answer.body), { error: INJECTED_FAULT_MESSAGE });
      failed.push(i);
    }
    assert.deepEqual(failed, [19, 39, 59, 79, 99]);
    assert.ok(fastest >= 40, `every answer waited the extra 40 ms (fastest: ${fastest} ms)`);
    assert.ok(
      server.logs.some((line) => line.message === 'TEST FAULTS INJECTED into predict answers'),
    );
    // Status requests are not predictions: neither delayed into failure nor counted.
    const status = await fetch(`${server.baseUrl}/v1/models/recs`);
    assert.equal(status.status, 200);
  });

  it('ignores the file without ANN_SERVING_ALLOW_TEST_FAULTS=1, saying so once', async () => {
    const dir = await faulty({ error_ratio: 1 });
    const server = await serve(dir);
    const statuses = await Promise.all(
      Array.from({ length: 20 }, () => predict(server.port, BODY, 'recs').then((a) => a.status)),
    );
    assert.deepEqual(new Set(statuses), new Set([200]));
    const warnings = server.logs.filter((line) =>
      String(line.message).startsWith('test-faults.json ignored'),
    );
    assert.equal(warnings.length, 1, JSON.stringify(server.logs));
    assert.equal(warnings[0]?.severity, 'WARNING');
  });

  it('refuses to load a malformed fault file, naming every problem', async () => {
    const dir = await faulty('{"error_ratio": 2, "extra_latency_ms": 1.5, "delay": 3}');
    const result = await runUntilExit({
      MODEL_PATH: dir,
      MODEL_NAME: 'recs',
      ...ALLOW_TEST_FAULTS,
    });
    assert.equal(result.code, 1);
    const file = path.join(dir, 'ann', 'test-faults.json');
    assert.ok(
      result.stdout.includes(
        `${file}: unknown key \\"delay\\" (known: error_ratio, extra_latency_ms, only_customer_ids_matching); error_ratio must be a number from 0 to 1, got 2; extra_latency_ms must be a whole number from 0 to 60000, got 1.5`,
      ),
      result.stdout,
    );
  });

  it('logs one "degenerate answer" line per answer with a degenerate prediction', async () => {
    // MAX_K above the 20-product catalogue, so a request may ask for more than there is.
    const server = await serve(bundleDir, { MAX_K: '50' });
    const degenerate = () => server.logs.filter((line) => line.message === 'degenerate answer');
    assert.equal((await predict(server.port, BODY, 'recs')).status, 200);
    assert.equal(
      (await predict(server.port, JSON.stringify({ instances: TINY_EXAMPLES, k: 20 }), 'recs'))
        .status,
      200,
    );
    assert.deepEqual(degenerate(), [], 'no k, or k the catalogue can fill: nothing to log');

    assert.equal(
      (await predict(server.port, JSON.stringify({ instances: TINY_EXAMPLES, k: 25 }), 'recs'))
        .status,
      200,
    );
    // A non-finite query has no ranking: its scores are all NaN.
    const nan = '{"instances":[{"customer_id":"C1","city":"Warsaw","revenue":NaN}],"k":3}';
    assert.equal((await predict(server.port, nan, 'recs')).status, 200);
    await waitFor(() => degenerate().length >= 2);
    assert.deepEqual(
      degenerate().map(({ reason, instance, ids, k, severity, degeneratePredictions }) => ({
        reason,
        instance,
        ids,
        k,
        severity,
        degeneratePredictions,
      })),
      [
        {
          reason: 'fewer_than_k',
          instance: 0,
          ids: 20,
          k: 25,
          severity: 'WARNING',
          degeneratePredictions: TINY_EXAMPLES.length,
        },
        {
          reason: 'scores_all_equal',
          instance: 0,
          ids: 3,
          k: 3,
          severity: 'WARNING',
          degeneratePredictions: 1,
        },
      ],
    );
  });
});

describe('ann-serving test faults and degenerate answers (the rules)', () => {
  it('fails request i when floor((i+1)·ratio) > floor(i·ratio): floor(n·ratio) of any n', () => {
    for (const ratio of [0, 0.05, 0.1, 1 / 3, 0.5, 0.999, 1]) {
      const injector = new TestFaultInjector({ errorRatio: ratio, extraLatencyMs: 7 });
      let failures = 0;
      for (let n = 1; n <= 1000; n++) {
        const fault = injector.next();
        assert.equal(fault.delayMs, 7);
        if (fault.fail) failures += 1;
        assert.equal(failures, Math.floor(n * ratio), `ratio ${ratio} after ${n} requests`);
      }
    }
  });

  it('selects only requests with a matching customer id when only_customer_ids_matching is given', () => {
    const faults = parseTestFaults(
      '{"error_ratio": 0.5, "extra_latency_ms": 9, "only_customer_ids_matching": "^LOAD-"}',
      'f.json',
    );
    const injector = new TestFaultInjector(faults);
    const known = [{ customer_id: 'C-000001' }];
    const load = [{ customer_id: new TextEncoder().encode('LOAD-000007') }];
    const outcomes = [known, load, known, load, load, known, load].map((instances) =>
      injector.next(instances),
    );
    assert.deepEqual(
      outcomes.map((fault) => [fault.fail, fault.delayMs]),
      [
        [false, 0],
        [false, 9],
        [false, 0],
        [true, 9],
        [false, 9],
        [false, 0],
        [true, 9],
      ],
      'the examples are served as usual; half of the selected requests fail, every second one',
    );
    assert.throws(
      () => parseTestFaults('{"only_customer_ids_matching": "("}', 'f.json'),
      /only_customer_ids_matching must be a regular expression/,
    );
  });

  it('reads both keys as optional, and refuses a file that is not an object', () => {
    assert.deepEqual(parseTestFaults('{}', 'f.json'), { errorRatio: 0, extraLatencyMs: 0 });
    assert.deepEqual(parseTestFaults('{"extra_latency_ms": 40}', 'f.json'), {
      errorRatio: 0,
      extraLatencyMs: 40,
    });
    assert.throws(
      () => parseTestFaults('[0.1]', 'f.json'),
      /^Error: f\.json: must be a JSON object/,
    );
    assert.throws(
      () => parseTestFaults('{"error_ratio": }', 'f.json'),
      /^Error: f\.json: not JSON/,
    );
  });

  it('has no injector without the file, and none without the permission', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ann-faults-rules-'));
    try {
      const logger = new RecordingLogger();
      assert.equal(await loadTestFaults(dir, true, logger), undefined);
      fs.writeFileSync(path.join(dir, 'test-faults.json'), '{"error_ratio": 0.5}');
      assert.equal(await loadTestFaults(dir, false, logger), undefined);
      assert.equal(logger.lines.filter((line) => line.level === 'warn').length, 1);
      const injector = await loadTestFaults(dir, true, logger);
      assert.deepEqual(injector?.faults, { errorRatio: 0.5, extraLatencyMs: 0 });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('calls a prediction degenerate for no ids, equal scores, or fewer ids than an explicit k', () => {
    const p = (ids: number[], scores: number[]) => ({ productIds: ids, scores });
    assert.equal(degenerateReason(p([], []), undefined), 'no_ids');
    assert.equal(degenerateReason(p([1, 2], [0.5, 0.5]), undefined), 'scores_all_equal');
    assert.equal(degenerateReason(p([1, 2], [NaN, NaN]), undefined), 'scores_all_equal');
    assert.equal(degenerateReason(p([1, 2], [0.9, 0.5]), 3), 'fewer_than_k');
    assert.equal(degenerateReason(p([1, 2], [0.9, 0.5]), 2), undefined);
    assert.equal(degenerateReason(p([1, 2], [0.9, 0.5]), undefined), undefined);
    assert.equal(degenerateReason(p([1], [0.9]), undefined), undefined, 'one score cannot tie');
    assert.equal(
      degenerateReason(p([-1], [NaN]), undefined),
      'nan_scores',
      'but one NaN has no rank',
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
