/**
 * The fingerprint from training run to answer (issue 16), on real ann-serving
 * processes: every predict answer names the run and the bundle's fingerprint
 * (also errors and the :classify refusal; not status), /metrics says the
 * same, verify's fingerprint check passes for the bundle the server loaded
 * and fails, naming both, for another run's bundle; and a bundle carrying an
 * index built from another run's embeddings never becomes ready, with an
 * error naming both training runs and both sha256s.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  bundleFingerprint,
  candidatesSha256,
  readBundle,
  type ModelBundle,
  type ModelFingerprint,
} from '@recdeploy/shared/ann';
import { RecordingLogger } from '../../../shared/logging/recording-logger.js';
import {
  DEFAULT_VERIFICATION_THRESHOLDS,
  verifyRevision,
  type VerificationOutcome,
} from '../../../shared/verification/index.js';
import { otherRunWithSourceIndex } from '../../support/ann/other-run-index.js';
import { sampleBundle } from '../../support/ann-serving/sample-bundle.js';
import {
  runUntilExit,
  startServer,
  waitUntilReady,
  type ServerProcess,
} from '../../support/ann-serving/server-process.js';

const DEPLOYED_FOR = 'train-777';

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', body: JSON.stringify(body) });
}

function fingerprintCheck(outcome: VerificationOutcome) {
  const found = outcome.verification.checks.find((c) => c.name === 'fingerprint');
  assert.ok(found, JSON.stringify(outcome.verification.checks));
  return found;
}

describe('ann-serving fingerprint: headers, metrics, verify, and a refused index', function () {
  this.timeout(240_000);
  let bundle: ModelBundle;
  let expected: ModelFingerprint;
  let server: ServerProcess;

  before(async () => {
    const sample = await sampleBundle();
    bundle = await readBundle(sample.dir);
    expected = await bundleFingerprint(bundle);
    server = await startServer({ MODEL_PATH: sample.dir, TRAINING_RUN_ID: DEPLOYED_FOR });
    await waitUntilReady(server);
  });
  after(async () => {
    await server?.stop();
  });

  it('names the run and the fingerprint on every predict answer, and on /metrics', async () => {
    assert.match(
      expected.trainingRunId ?? '',
      /^sample-\d{8}T\d{6}Z$/,
      'the sample trainer declares a run',
    );
    const model = `${server.baseUrl}/v1/models/recommender`;
    const answers = {
      ok: await post(`${model}:predict`, { instances: [bundle.examples[0]] }),
      badInput: await post(`${model}:predict`, { instances: [{ nope: 1 }] }),
      classify: await post(`${model}:classify`, { examples: [bundle.examples[0]] }),
    };
    assert.equal(answers.ok.status, 200);
    assert.equal(answers.badInput.status, 400);
    assert.equal(answers.classify.status, 400);
    for (const [name, answer] of Object.entries(answers)) {
      // TRAINING_RUN_ID (the run deployed) wins over the run the bundle declares.
      assert.equal(answer.headers.get('x-recdeploy-run-id'), DEPLOYED_FOR, name);
      assert.equal(answer.headers.get('x-recdeploy-fingerprint'), expected.id, name);
    }
    const status = await fetch(model);
    assert.equal(status.headers.get('x-recdeploy-fingerprint'), null, 'status is not a predict');

    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    assert.ok(
      metrics.includes(
        `ann_serving_model_info{training_run_id="${DEPLOYED_FOR}",fingerprint="${expected.id}"} 1`,
      ),
      metrics
        .split('\n')
        .filter((line) => line.includes('model_info'))
        .join('\n'),
    );
  });

  it("verify passes for the loaded bundle and fails, naming both, for another run's", async () => {
    const thresholds = { ...DEFAULT_VERIFICATION_THRESHOLDS, latencySamples: 5 };
    const verify = (verified: ModelBundle, trainingRunId: string) =>
      verifyRevision({
        baseUrl: server.baseUrl,
        modelName: 'recommender',
        bundle: verified,
        runtime: 'ann-serving',
        mode: 'exact',
        thresholds,
        logger: new RecordingLogger(),
        trainingRunId,
      });

    const same = await verify(bundle, DEPLOYED_FOR);
    assert.equal(fingerprintCheck(same).passed, true, fingerprintCheck(same).detail);
    assert.deepEqual(same.verification.fingerprint, { ...expected, trainingRunId: DEPLOYED_FOR });

    const other = await readBundle(
      await otherRunWithSourceIndex(path.dirname(bundle.dir), 'train-888'),
    );
    const otherFingerprint = await bundleFingerprint(other);
    const outcome = await verify(other, 'train-888');
    const check = fingerprintCheck(outcome);
    assert.equal(check.passed, false);
    assert.equal(outcome.passed, false);
    assert.equal(
      check.detail,
      `the revision serves fingerprint ${expected.id} of training run ${DEPLOYED_FOR}, ` +
        `expected fingerprint ${otherFingerprint.id} of training run train-888 ` +
        "(different fingerprint and training run: it loaded another bundle than this run's)",
    );
  });

  it("refuses to become ready with an index built from another run's embeddings", async () => {
    const dir = await otherRunWithSourceIndex(path.dirname(bundle.dir), 'train-999');
    const { code, stdout } = await runUntilExit({ MODEL_PATH: dir, TRAINING_RUN_ID: 'train-999' });
    assert.equal(code, 1, stdout);
    const lines = stdout
      .split('\n')
      .filter(Boolean)
      .map(
        (line) =>
          JSON.parse(line) as { message: string; err?: { code?: string; message?: string } },
      );
    assert.equal(
      lines.some((line) => line.message === 'model AVAILABLE'),
      false,
    );
    const failure = lines.find((line) => line.message === 'model failed to load');
    assert.equal(failure?.err?.code, 'INDEX.MISMATCH');
    const other = await readBundle(dir);
    assert.equal(
      failure?.err?.message,
      `index in ${path.join(dir, 'ann', 'index')} was built from the embeddings of training run ` +
        `${expected.trainingRunId} (candidates sha256 ${expected.candidatesSha256}), but this ` +
        `bundle's are training run train-999's (sha256 ${candidatesSha256(other.candidates)}); ` +
        `rebuild it: recdeploy build-index ${dir}`,
    );
  });
});
