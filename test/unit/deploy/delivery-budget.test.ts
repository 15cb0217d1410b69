/**
 * Fix 7 of issue 12: one delivery of the deploy and the verify function fits
 * its function timeout with a margin, checked against the real descriptors
 * (their env over the chain defaults) with deploy/delivery-budget.ts; and a
 * push outlasting the subscription's ack deadline is never redelivered while
 * it still runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ChainEnvSchema } from '@recdeploy/shared/chain';
import { FUNCTION_DEPLOYMENTS } from '../../../deploy/functions.js';
import { budgetProblemsOf, requiredMarginSeconds } from '../../../deploy/delivery-budget.js';
import type { FunctionDeployment } from '../../../deploy/function-deployment.js';

const read = (relative: string) =>
  readFileSync(fileURLToPath(new URL(`../../../${relative}`, import.meta.url)), 'utf8');

function descriptor(workspace: string): FunctionDeployment {
  const d = FUNCTION_DEPLOYMENTS.find((f) => f.workspace === workspace);
  assert.ok(d, workspace);
  return d;
}

describe('delivery budgets (deploy/delivery-budget.ts)', function () {
  it('keep 20% of a timeout as margin, at least a minute', function () {
    assert.equal(requiredMarginSeconds(540), 108);
    assert.equal(requiredMarginSeconds(300), 60);
    assert.equal(requiredMarginSeconds(120), 60);
  });

  it("count Cloud Run's waits as CloudRunPlatform's own defaults", function () {
    // The budget imports the adapter's constants; the adapter must default to
    // them and the wiring must pass no wait of its own.
    const platform = read('shared/adapters/gcp/cloud-run-platform.ts');
    assert.match(platform, /options\.readyTimeoutMs \?\? CLOUD_RUN_READY_TIMEOUT_MS/);
    assert.match(platform, /options\.trafficTimeoutMs \?\? CLOUD_RUN_TRAFFIC_TIMEOUT_MS/);
    const wiring = read('shared/wiring/chain-deps-factory.ts');
    assert.doesNotMatch(
      wiring,
      /readyTimeoutMs|trafficTimeoutMs/,
      'the wiring passes its own wait: count that',
    );
  });

  it('deploy: an inline index build and the rollout wait fit the function timeout with the margin', function () {
    assert.deepEqual(budgetProblemsOf(descriptor('deploy')), []);
  });

  it('deploy: the check fails a descriptor whose timeout or inline-build limit cannot fit', function () {
    const deploy = descriptor('deploy');
    const [short] = budgetProblemsOf({ ...deploy, timeoutSeconds: 300 });
    assert.match(
      short ?? '',
      /^function recdeploy-deploy: one delivery may take \d+ s \(inline index build \(INDEX_BUILD_INLINE_MAX_S\) \d+ s \+ Cloud Run rollout of the new revision 300 s\), over its 300 s timeout less a 60 s margin$/,
    );
    // The schema accepts up to an hour of inline build: no function timeout holds that.
    const max = ChainEnvSchema.properties.INDEX_BUILD_INLINE_MAX_S.maximum;
    assert.equal(
      budgetProblemsOf({ ...deploy, env: { ...deploy.env, INDEX_BUILD_INLINE_MAX_S: String(max) } })
        .length,
      1,
    );
  });

  it('verify: its checks and the traffic move fit the function timeout with the margin', function () {
    assert.deepEqual(budgetProblemsOf(descriptor('verify')), []);
  });

  it('verify: the check fails a descriptor whose timeout or checks budget cannot fit', function () {
    const verify = descriptor('verify');
    const [short] = budgetProblemsOf({ ...verify, timeoutSeconds: 300 });
    assert.equal(
      short,
      'function recdeploy-verify: one delivery may take 420 s (all checks (VERIFY_CHECKS_TIMEOUT_MS, the readiness wait included) 300 s + Cloud Run traffic move (promote or discard) 120 s), over its 300 s timeout less a 60 s margin',
    );
    const max = ChainEnvSchema.properties.VERIFY_CHECKS_TIMEOUT_MS.maximum;
    assert.equal(
      budgetProblemsOf({ ...verify, env: { ...verify.env, VERIFY_CHECKS_TIMEOUT_MS: String(max) } })
        .length,
      1,
    );
  });

  it("have the trigger subscription's ack deadline outlast every function's timeout", function () {
    // For push, the ack deadline is the request timeout (10–600 s; pubsub.proto
    // ack_deadline_seconds): a shorter one redelivers a delivery still running.
    const script = read('deploy/scripts/configure-function-trigger.sh');
    const deadlines = [...script.matchAll(/--ack-deadline=(\d+)\b/g)].map((m) => Number(m[1]));
    assert.equal(deadlines.length, 1, 'configure-function-trigger.sh sets --ack-deadline once');
    const [deadline] = deadlines as [number];
    assert.ok(deadline <= 600, 'Pub/Sub allows at most 600 s');
    for (const d of FUNCTION_DEPLOYMENTS) assert.ok(deadline >= d.timeoutSeconds, d.name);
  });
});
