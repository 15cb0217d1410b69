/**
 * Convergence (DESIGN.md §4, issue 11): 1,000 duplicate deliveries of one
 * training-completed event (one event id), 100 at a time, pushed straight to
 * the register function's HTTP endpoint as binary-mode CloudEvents (the way
 * Eventarc delivers them). A non-2xx answer is retried after 100–300 ms, as
 * a push subscription would, until acknowledged. Meanwhile the chain carries
 * the run on through the bus.
 *
 * A hand-off is republished at most once per window however many
 * duplicates arrive: at most two model-registered and two model-deployed
 * messages for the run (counted in bus.db as they are published), one
 * registry version, one revision, one traffic change, and the run ends live.
 * The second test does the same with the run's model-registered hand-off
 * (same message id as the one register published) pushed to deploy.
 */
import assert from 'node:assert/strict';
import type { ChainDeps } from '@recdeploy/shared/chain';
import {
  sampleBundleWithoutIndex,
  type SampleBundle,
} from '../../support/ann-serving/sample-bundle.js';
import {
  BusRecorder,
  chainDeps,
  describeRuns,
  localPlatform,
  pollUntil,
  runIdOf,
  sleep,
  summariseAnswers,
  withoutStepBusyTraces,
} from '../../support/chain/convergence.js';
import { localChain, trainingCompleted, type LocalChain } from '../../support/chain/local-chain.js';
import {
  binaryDelivery,
  messagePublished,
  type HttpDelivery,
} from '../../fixtures/events/deliveries.js';

const DUPLICATES = 1_000;
const CONCURRENCY = 100;
/** Per delivery; far more than needed (a busy register step is held for well under a second). */
const MAX_ATTEMPTS = 50;
const MAX_HAND_OFFS = 2;

describe('convergence: 1,000 duplicate deliveries of one training-completed, 100 at a time', function () {
  this.timeout(120_000);
  let chain: LocalChain;
  let sample: SampleBundle;
  let deps: ChainDeps;
  let recorder: BusRecorder;

  before(async () => {
    [chain, sample] = await Promise.all([localChain(), sampleBundleWithoutIndex()]);
    deps = await chainDeps();
    recorder = BusRecorder.install(chain);
  });
  after(() => recorder?.uninstall());

  it(`publishes at most ${MAX_HAND_OFFS} hand-offs per step; the run goes live with one registry version`, async () => {
    const endpoint = 'conv-duplicates';
    const runId = runIdOf(endpoint, 'train-001');
    const service = `rec-${endpoint}`;
    const uri = await chain.addBundle(sample.dir, `${endpoint}-1`);
    const delivery = binaryDelivery(
      messagePublished(trainingCompleted(uri, { model_endpoint_id: endpoint }), {
        id: '8811000000000001',
      }),
    );

    const pushed = await pushDuplicates(chain.functionUrls.register, delivery, runId);
    const run = await chain.waitForRun(runId, ['live', 'failed', 'skipped'], 60_000);
    assert.equal(run.status, 'live', describeRuns([run]));
    // Whatever the duplicates set off has been delivered and answered.
    const settled = await pollUntil(
      () => Promise.resolve(recorder.pending(runId)),
      (n) => n === 0,
      30_000,
    );
    assert.ok(settled.met, `deliveries of the run still pending: ${settled.value}`);

    const registered = recorder.messages('model-registered', runId);
    const deployed = recorder.messages('model-deployed', runId);
    const busAnswers = summariseAnswers(recorder.answers(runId));
    const versions = await chain.registry.listVersions(run.registry!.model);
    const platform = localPlatform(deps);
    const counts = {
      'model-registered messages': registered.length,
      'model-deployed messages': deployed.length,
      'registry versions': versions.length,
      revisions: platform.listRevisions(service).length,
      'traffic changes': platform.trafficChanges(service).length,
    };
    const report = `register: ${pushed.summary}; ${JSON.stringify(counts)}; bus answers for the run: ${busAnswers}; handOffAt: deploy ${run.steps.deploy.handOffAt}, verify ${run.steps.verify.handOffAt}`;
    console.log(`      ${report}`);

    assert.equal(pushed.neverAcked, 0, report);
    assert.ok(registered.length >= 1 && registered.length <= MAX_HAND_OFFS, report);
    assert.ok(deployed.length >= 1 && deployed.length <= MAX_HAND_OFFS, report);
    assert.deepEqual(
      {
        'registry versions': counts['registry versions'],
        revisions: counts.revisions,
        'traffic changes': counts['traffic changes'],
      },
      { 'registry versions': 1, revisions: 1, 'traffic changes': 1 },
      report,
    );
    assert.equal(run.steps.register.attempts, 1, `register attempts: ${describeRuns([run])}`);
    assert.equal(run.history[0]?.eventId, '8811000000000001');
  });

  it(`and 1,000 duplicates of its model-registered hand-off to deploy: at most ${MAX_HAND_OFFS} model-deployed`, async () => {
    const endpoint = 'conv-duplicates-deploy';
    const runId = runIdOf(endpoint, 'train-001');
    const service = `rec-${endpoint}`;
    const uri = await chain.addBundle(sample.dir, `${endpoint}-1`);
    await chain.publishTrainingCompleted(trainingCompleted(uri, { model_endpoint_id: endpoint }));
    // The hand-off as register published it (same message id: true duplicates of its delivery).
    const published = await pollUntil(
      () => Promise.resolve(recorder.messages('model-registered', runId)),
      (messages) => messages.length > 0,
      30_000,
      5,
    );
    const handOff = published.value[0];
    assert.ok(handOff !== undefined, 'register published no model-registered');
    const registeredRun = await chain.runs.getRun(runId);
    const delivery = binaryDelivery(
      messagePublished(
        { schema_version: '1', run_id: runId, registry: registeredRun!.registry },
        { id: handOff.id },
      ),
    );
    const pushed = await pushDuplicates(chain.functionUrls.deploy, delivery, runId);

    const run = await chain.waitForRun(runId, ['live', 'failed', 'skipped'], 60_000);
    assert.equal(run.status, 'live', describeRuns([run]));
    const settled = await pollUntil(
      () => Promise.resolve(recorder.pending(runId)),
      (n) => n === 0,
      30_000,
    );
    assert.ok(settled.met, `deliveries of the run still pending: ${settled.value}`);
    const platform = localPlatform(deps);
    const counts = {
      'model-registered messages': recorder.messages('model-registered', runId).length,
      'model-deployed messages': recorder.messages('model-deployed', runId).length,
      'registry versions': (await chain.registry.listVersions(run.registry!.model)).length,
      revisions: platform.listRevisions(service).length,
      'traffic changes': platform.trafficChanges(service).length,
    };
    const report = `deploy: ${pushed.summary}; ${JSON.stringify(counts)}; bus answers for the run: ${summariseAnswers(recorder.answers(runId))}; deploy attempts ${run.steps.deploy.attempts}`;
    console.log(`      ${report}`);
    assert.equal(pushed.neverAcked, 0, report);
    assert.ok(counts['model-registered messages'] <= MAX_HAND_OFFS, report);
    assert.ok(
      counts['model-deployed messages'] >= 1 && counts['model-deployed messages'] <= MAX_HAND_OFFS,
      report,
    );
    assert.deepEqual(
      [counts['registry versions'], counts.revisions, counts['traffic changes']],
      [1, 1, 1],
      report,
    );
  });

  /**
   * Pushes DUPLICATES copies of `delivery` to `url`, CONCURRENCY at a time,
   * each retried after a non-2xx answer (100–300 ms later) until acknowledged.
   */
  async function pushDuplicates(
    url: string,
    delivery: HttpDelivery,
    runId: string,
  ): Promise<{ neverAcked: number; summary: string }> {
    const headers = delivery.headers as Record<string, string>;
    const answers = new Map<string, number>();
    let firstAttemptRefused = 0;
    let refused = 0;
    let neverAcked = 0;
    let next = 0;
    const statusesSeen = new Set<string>();
    const worker = async () => {
      while (next < DUPLICATES) {
        next += 1;
        for (let attempt = 1; ; attempt++) {
          const response = await fetch(url, { method: 'POST', headers, body: delivery.body });
          await response.arrayBuffer();
          const key = String(response.status);
          answers.set(key, (answers.get(key) ?? 0) + 1);
          if (response.status >= 200 && response.status < 300) break;
          refused += 1;
          if (attempt === 1) firstAttemptRefused += 1;
          if (attempt === MAX_ATTEMPTS) {
            neverAcked += 1;
            break;
          }
          await sleep(100 + Math.random() * 200);
        }
        statusesSeen.add((await chain.runs.getRun(runId))?.status ?? 'absent');
      }
    };
    const started = Date.now();
    const { heldBack } = await withoutStepBusyTraces(() =>
      Promise.all(Array.from({ length: CONCURRENCY }, worker)),
    );
    const answered = [...answers.entries()].map(([status, n]) => `${n}× ${status}`).join(', ');
    return {
      neverAcked,
      summary: `${DUPLICATES} duplicates (${CONCURRENCY} at a time) delivered in ${Date.now() - started} ms while the run was ${[...statusesSeen].join('/')}; answered ${answered} (${firstAttemptRefused} refused at first, ${refused} non-2xx in all, ${neverAcked} never acknowledged; ${heldBack} "step busy" traces not printed)`,
    };
  }
});

after(async () => (await localChain()).stop());
