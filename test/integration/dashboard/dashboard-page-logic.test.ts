/**
 * The page's two modules that need no DOM, imported as the browser imports
 * them: failure headings by error code (policy refusals, failed checks,
 * unknown codes) and the traffic chart's shares over time through a canary
 * and a rollback (the browser tests show them; here every value is checked).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { RunDocument, VerificationCheck } from '@recdeploy/shared';

const ASSETS = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../services/dashboard/public/assets',
);

type StepError = { code: string; message: string };
interface FailureWords {
  failureHeading: (error: StepError, run?: Partial<RunDocument>) => string;
}
interface ChartModel {
  x: number[];
  series: { label: string; values: (number | null)[] }[];
}
interface ChartData {
  trafficModel: (runs: Partial<RunDocument>[], nowMs: number) => ChartModel;
}

/** The page's module, untyped JavaScript, seen through the interface above. */
async function load<T>(name: string): Promise<T> {
  return (await import(pathToFileURL(path.join(ASSETS, name)).href)) as T;
}

describe('dashboard page logic (its DOM-free modules)', () => {
  it('heads failures by their real cause, and unknown codes neutrally', async () => {
    const { failureHeading } = await load<FailureWords>('failure-words.js');
    const forbidden = (message: string) => failureHeading({ code: 'ARTIFACT.FORBIDDEN', message });
    assert.equal(
      forbidden('/x/m is outside the configured artifact roots; this store accepts …'),
      'Refused by policy: the model files are outside the allowed artifact roots (ARTIFACT_ROOTS)',
    );
    assert.equal(
      forbidden(
        'artifact URI ftp://m has the scheme "ftp"; the Cloud Storage store accepts only …',
      ),
      'Refused by policy: the artifact URI is not one the artifact store accepts',
    );
    assert.equal(
      forbidden('cannot read gs://b/m/saved_model.pb: 403 Forbidden'),
      'The model files could not be read: access was refused',
    );
    assert.match(
      failureHeading({ code: 'RUN.NOT_BLESSED', message: 'not blessed by the Evaluator' }),
      /^Refused by policy: the model was not blessed/,
    );
    assert.match(
      failureHeading({ code: 'ROLLOUT.OUTSIDE_POLICY', message: 'rollout.steps …' }),
      /^Refused by policy: the rollout the run asks for is outside/,
    );
    assert.match(
      failureHeading({
        code: 'DEPLOY.OUTSIDE_POLICY',
        message: 'deployment_config.public is true …',
      }),
      /^Refused by policy: the serving settings the run asks for \(deployment_config\)/,
    );
    const checks = [
      { name: 'model_available', passed: false, detail: 'not AVAILABLE after 60000 ms' },
      { name: 'latency', passed: true },
      { name: 'ann_recall', passed: false, detail: 'recall@10 0.71 < 0.9' },
    ];
    assert.equal(
      failureHeading(
        { code: 'VERIFY.FAILED', message: '2 of 3 checks failed' },
        {
          verification: { checks },
        },
      ),
      'The new revision failed verification (the revision did not become ready in time; ' +
        'ANN recall below its floor), so traffic was not moved',
    );
    assert.equal(
      failureHeading({ code: 'DEPENDENCY.UNAVAILABLE', message: 'request timed out after 30 s' }),
      'A cloud service did not answer in time',
    );
    assert.equal(
      failureHeading({ code: 'SOMETHING.NEW', message: 'whatever' }),
      'Stopped by error SOMETHING.NEW',
    );
  });

  it('names failed replay checks by their gate, and never a skipped check as a failure', async () => {
    const { failureHeading } = await load<FailureWords>('failure-words.js');
    const heading = (checks: VerificationCheck[]) =>
      failureHeading({ code: 'VERIFY.FAILED', message: '…' }, { verification: { checks } });
    const skipped = { name: 'replay', passed: false, skipped: true, detail: 'not run: no sample' };
    assert.equal(
      heading([skipped, { name: 'latency', passed: false, detail: 'p99 1450 ms' }]),
      'The new revision failed verification (latency above its limit), so traffic was not moved',
    );
    assert.match(
      heading([{ name: 'replay', passed: false, detail: 'overlap with live too low: 200 live …' }]),
      /\(too little overlap with the live revision on replayed live queries\)/,
    );
    assert.match(
      heading([{ name: 'replay', passed: false, detail: 'recall too low: 200 live …' }]),
      /\(ANN recall on replayed live queries below its floor\)/,
    );
  });

  it('charts each revision’s share through a canary, its promotion and a rollback', async () => {
    const { trafficModel } = await load<ChartData>('chart-data.js');
    const t = (minute: number) => new Date(Date.UTC(2030, 0, 1, 0, minute)).toISOString();
    const run = (n: number, status: RunDocument['status'], history: [number, string][]) => ({
      runId: `r${n}`,
      runNumber: n,
      status,
      serving: { runtime: 'ann-serving', service: 'svc', revision: `rev${n}` },
      history: history.map(([minute, to], i) => ({
        at: t(minute),
        from: i === 0 ? null : (history[i - 1]![1] as RunDocument['status']),
        to: to as RunDocument['status'],
      })),
    });
    // Run 1 live at 0; run 2 a canary at 10 (10%), 50% at 20, live at 30 (run 1 replaced);
    // a rollback at 40 brings run 1 back (run 2 rolled back).
    const one = run(1, 'live', [
      [0, 'live'],
      [30, 'replaced'],
      [40, 'live'],
    ]);
    const two = {
      ...run(2, 'rolled_back', [
        [10, 'canary'],
        [30, 'live'],
        [40, 'rolled_back'],
      ]),
      canary: {
        steps: [
          { percent: 10, decidedAt: t(10), trafficAt: t(10) },
          { percent: 50, decidedAt: t(19), trafficAt: t(20) },
        ],
      },
    } as unknown as Partial<RunDocument>;
    const model = trafficModel([two, one], Date.parse(t(50)));
    assert.deepEqual(
      model.x.map((seconds) => (seconds * 1000 - Date.parse(t(0))) / 60_000),
      [0, 10, 20, 30, 40, 50],
    );
    assert.deepEqual(
      model.series.map((s) => s.label),
      ['#1 rev1 (live)', '#2 rev2 (rolled back)'],
    );
    assert.deepEqual(model.series[0]!.values, [100, 90, 50, 0, 100, 100]);
    assert.deepEqual(model.series[1]!.values, [null, 10, 50, 100, 0, null]);
  });
});
