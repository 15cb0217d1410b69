/**
 * The CLI's pure output helpers: tables, durations and ages, "did you mean"
 * matches, and how runs read as a table and in detail (watch progress:
 * run-progress.test.ts).
 */
import assert from 'node:assert/strict';
import { closeMatches, editDistance } from '../../../cli/src/output/close-matches.js';
import { elapsedMs, formatAge, formatDuration } from '../../../cli/src/output/durations.js';
import { describeRun } from '../../../cli/src/output/run-details.js';
import { lastError, runtimeOf } from '../../../cli/src/output/run-summary.js';
import { runsTable } from '../../../cli/src/output/runs-table.js';
import { clip, renderTable } from '../../../cli/src/output/table.js';
import { liveRun, receivedRun, servingRecord } from './run-documents.js';

const NOW = new Date('2030-01-01T10:05:00.000Z');

describe('CLI output', () => {
  describe('renderTable', () => {
    it('pads each column to its widest cell, right-aligns numbers and trims line ends', () => {
      const lines = renderTable(
        [{ header: 'NAME' }, { header: 'N', align: 'right' }, { header: 'NOTE' }],
        [
          ['alpha', '7', ''],
          ['b', '1234', 'x'],
        ],
      );
      assert.deepEqual(lines, ['NAME      N  NOTE', 'alpha     7', 'b      1234  x']);
    });

    it('cuts cells past maxWidth with "…", counts code points, and keeps each row on one line', () => {
      const lines = renderTable(
        [{ header: 'A' }, { header: 'B', maxWidth: 6 }],
        [
          ['zażółć', 'abcdefghij'],
          ['x', 'two\nlines'],
        ],
      );
      assert.deepEqual(lines, ['A       B', 'zażółć  abcde…', 'x       two l…']);
      assert.equal(clip('short', 10), 'short');
      assert.equal(clip('exactly6', 8), 'exactly6');
      assert.equal(clip('abc', undefined), 'abc');
    });
  });

  describe('durations and ages', () => {
    const cases: [number, string][] = [
      [0, '0 ms'],
      [849.6, '850 ms'],
      [1_000, '1.0 s'],
      [1_249, '1.2 s'],
      [9_999, '9.9 s'],
      [42_700, '42 s'],
      [60_000, '1 m 00 s'],
      [185_000, '3 m 05 s'],
      [2 * 3_600_000 + 3 * 60_000 + 59_000, '2 h 03 m'],
      [3 * 86_400_000 + 4 * 3_600_000, '3 d 4 h'],
    ];
    for (const [ms, text] of cases) {
      it(`formats ${ms} ms as "${text}"`, () => assert.equal(formatDuration(ms), text));
    }

    it('shows "-" for durations that cannot be', () => {
      assert.equal(formatDuration(-1), '-');
      assert.equal(formatDuration(Number.NaN), '-');
    });

    it('gives ages in one unit, never negative, "-" when unknown', () => {
      assert.equal(formatAge('2030-01-01T10:04:48.500Z', NOW), '11s');
      assert.equal(formatAge('2030-01-01T09:59:59.000Z', NOW), '5m');
      assert.equal(formatAge('2029-12-31T22:00:00.000Z', NOW), '12h');
      assert.equal(formatAge('2029-12-28T10:05:00.000Z', NOW), '4d');
      assert.equal(formatAge('2030-01-01T10:06:00.000Z', NOW), '0s');
      assert.equal(formatAge(undefined, NOW), '-');
      assert.equal(formatAge('yesterday', NOW), '-');
    });

    it('measures a step to its end, or to now while it runs', () => {
      assert.equal(elapsedMs('2030-01-01T10:00:00.000Z', '2030-01-01T10:00:01.250Z', NOW), 1_250);
      assert.equal(elapsedMs('2030-01-01T10:04:00.000Z', undefined, NOW), 60_000);
      assert.equal(elapsedMs(undefined, undefined, NOW), undefined);
    });
  });

  describe('closeMatches', () => {
    const ids = ['home-train-7', 'home-train-8', 'search-train-7', 'home-sample-1'];

    it('offers ids containing the query first, then near misses, closest first', () => {
      assert.deepEqual(closeMatches('train-7', ids), ['home-train-7', 'search-train-7']);
      assert.deepEqual(closeMatches('home-trian-7', ids), ['home-train-7', 'home-train-8']);
      assert.deepEqual(closeMatches('HOME-TRAIN-8', ids), ['home-train-8', 'home-train-7']);
    });

    it('offers nothing for an unrelated query, and never the query itself', () => {
      assert.deepEqual(closeMatches('ranking-main-3', ids), []);
      assert.deepEqual(closeMatches('home-train-7', ['home-train-7']), []);
    });

    it('bounds the count and the edit distance', () => {
      assert.equal(closeMatches('a', ['ab', 'ac', 'ad'], 2).length, 2);
      assert.equal(editDistance('kitten', 'sitting'), 3);
      assert.equal(editDistance('kitten', 'sitting', 1), 2, 'gives up past the limit');
      assert.equal(editDistance('', 'abc'), 3);
    });
  });

  describe('run summaries', () => {
    it('names the runtime with its mode, or "-" before deploy', () => {
      assert.equal(runtimeOf(liveRun()), 'ann-serving/ann');
      const tf = liveRun();
      assert.equal(
        runtimeOf({ ...tf, serving: { runtime: 'tf-serving', service: 'rec-home' } }),
        'tf-serving',
      );
      assert.equal(runtimeOf(receivedRun()), '-');
    });

    it("prefers the run's status reason, else the latest step error, on one line", () => {
      assert.equal(lastError(liveRun()), undefined);
      const retrying = receivedRun({
        status: 'registered',
        steps: {
          register: { status: 'succeeded', attempts: 1 },
          deploy: {
            status: 'pending',
            attempts: 1,
            error: { code: 'PLATFORM.CONFLICT', message: 'etag mismatch\nat revision r7' },
          },
          verify: { status: 'pending', attempts: 0 },
        },
      });
      assert.equal(lastError(retrying), 'PLATFORM.CONFLICT: etag mismatch');
      assert.equal(
        lastError({ ...retrying, status: 'failed', statusReason: 'VERIFY.FAILED: 1 of 5\nmore' }),
        'VERIFY.FAILED: 1 of 5',
      );
    });
  });

  describe('runsTable', () => {
    it('lists id, status, endpoint, run number, runtime, revision, traffic, age and notes', () => {
      const failed = receivedRun({
        runId: 'home-train-8',
        runNumber: 8,
        status: 'failed',
        statusReason: `VERIFY.FAILED: ${'x'.repeat(100)}`,
        createdAt: '2030-01-01T08:00:00.000Z',
      });
      assert.deepEqual(runsTable([liveRun(), failed], [servingRecord()], NOW), [
        'RUN           STATUS  ENDPOINT  RUN NO  RUNTIME          REVISION              TRAFFIC  AGE  NOTES',
        'home-train-7  live    home           7  ann-serving/ann  rec-home-r7-abcd1234     100%   5m',
        `home-train-8  failed  home           8  -                -                           -   2h  VERIFY.FAILED: ${'x'.repeat(44)}…`,
      ]);
    });
  });

  describe('describeRun', () => {
    it('shows identity, step attempts and durations, serving and every check', () => {
      const lines = describeRun(liveRun(), NOW, servingRecord());
      assert.deepEqual(lines.slice(0, 8), [
        'run       home-train-7',
        'status    live (since 3m ago)',
        'model     two-tower: retrieval, hnsw, blessed',
        'endpoint  home, run number 7',
        'artifact  gs://models/home/7',
        'metrics   recall_at_100 0.97',
        'registry  projects/p/locations/r/models/1 version 3',
        'created   2030-01-01T10:00:00.000Z (5m ago)',
      ]);
      const from = (label: string) => lines.slice(lines.indexOf(label));
      assert.deepEqual(from('steps').slice(0, 5), [
        'steps',
        '  STEP      STATUS     ATTEMPTS  DURATION  ERROR',
        '  register  succeeded         1     1.2 s',
        '  deploy    succeeded         2  1 m 08 s',
        '  verify    succeeded         1      19 s',
      ]);
      assert.deepEqual(from('serving').slice(0, 8), [
        'serving',
        '  runtime   ann-serving (mode ann)',
        '  why       retrieval with hnsw: approximate nearest neighbours',
        '  service   rec-home',
        '  revision  rec-home-r7-abcd1234',
        '  traffic   100% of service rec-home since 2030-01-01T10:01:30.000Z (3m ago); observed 3m ago',
        '  url       http://127.0.0.1:4100',
        '  tag url   http://127.0.0.1:4101',
      ]);
      assert.deepEqual(lines.slice(-3), [
        'verification  passed (2 of 2 checks), p50 3 ms, p99 9 ms, recall@10 0.96',
        '  pass  model_available  AVAILABLE after 1.1 s',
        '  pass  latency          p50 3 ms, p99 9 ms',
      ]);
    });

    it('shows why a run ended, a running step with its lease, and failed checks', () => {
      const run = liveRun({
        status: 'failed',
        statusReason: 'VERIFY.FAILED: 1 of 2 checks failed',
        steps: {
          ...liveRun().steps,
          verify: {
            status: 'in_progress',
            attempts: 3,
            startedAt: '2030-01-01T10:04:30.000Z',
            error: { code: 'DEPENDENCY.UNAVAILABLE', message: 'connection refused' },
            lease: { owner: 'host-1-abc', expiresAt: '2030-01-01T10:09:30.000Z' },
          },
        },
        verification: { checks: [{ name: 'latency', passed: false, detail: 'p99 1200 ms' }] },
      });
      const lines = describeRun(run, NOW);
      assert.equal(lines[2], 'reason    VERIFY.FAILED: 1 of 2 checks failed');
      assert.ok(
        lines.includes(
          '  verify    in_progress         3      30 s  DEPENDENCY.UNAVAILABLE: connection refused (held by host-1-abc until 2030-01-01T10:09:30.000Z)',
        ),
        lines.join('\n'),
      );
      assert.deepEqual(lines.slice(-2), [
        'verification  failed (0 of 1 checks passed)',
        '  FAIL  latency  p99 1200 ms',
      ]);
    });

    it('shows a skipped check as skipped, the fingerprint and the replay report', () => {
      const run = liveRun({
        verification: {
          checks: [
            { name: 'latency', passed: true, detail: 'p50 3 ms' },
            { name: 'replay', passed: false, skipped: true, detail: 'not run: no sample yet' },
          ],
          fingerprint: {
            trainingRunId: 'train-7',
            id: '9f86d081884c7d65',
            queryModelSha256: 'a'.repeat(64),
            candidatesSha256: 'b'.repeat(64),
          },
          replay: {
            sampleUri: 'gs://b/replay/home/rec-home-r6.json',
            sampledAt: '2030-01-01T10:03:00.000Z',
            liveRevision: 'rec-home-r6',
            queries: 200,
            k: 10,
            recallAtK: 0.97,
            overlapAtK: 0.81,
            degenerateShare: 0,
            candidateLatencyP50Ms: 3.1,
            candidateLatencyP99Ms: 12.5,
          },
        },
      });
      assert.deepEqual(describeRun(run, NOW).slice(-10), [
        'verification  passed (1 of 2 checks, 1 skipped)',
        '  pass  latency  p50 3 ms',
        '  skip  replay   not run: no sample yet',
        '  fingerprint  9f86d081884c7d65 of training run train-7',
        `               query model sha256 ${'a'.repeat(64)}`,
        `               candidates sha256 ${'b'.repeat(64)}`,
        '  replay       200 live queries of rec-home-r6 (written 2030-01-01T10:03:00.000Z), k 10',
        '               recall@10 0.97, overlap@10 with live 0.81, degenerate 0',
        '               candidate p50 3.1 ms, p99 12.5 ms; live no answer',
        '               sample gs://b/replay/home/rec-home-r6.json',
      ]);
    });
  });
});
