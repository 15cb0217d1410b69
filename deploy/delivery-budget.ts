/**
 * The longest one delivery of the deploy and verify functions can take: every
 * bounded wait the usecases do in one delivery, each at its bound, from the
 * function's chain configuration. A delivery cut off by the function timeout
 * answers no status and is redelivered to do the same again, so the sum must
 * fit `timeoutSeconds` (functions/*\/src/deployment.ts) with a margin for what
 * has no bound of its own here (Firestore and GCS calls, an inline build
 * slower than its estimate). test/unit/deploy/delivery-budget.test.ts checks it.
 */
import { DEPLOY_PLACEHOLDERS, type FunctionDeployment } from '@recdeploy/shared';
import { loadChainConfig, type ChainConfig } from '@recdeploy/shared/chain';
import {
  CLOUD_RUN_READY_TIMEOUT_MS,
  CLOUD_RUN_TRAFFIC_TIMEOUT_MS,
} from '../shared/adapters/gcp/cloud-run-timeouts.js';

/** One bounded wait: what it is and its bound in seconds. */
export interface BudgetItem {
  readonly what: string;
  readonly seconds: number;
}

export interface DeliveryBudget {
  readonly deploy: readonly BudgetItem[];
  readonly verify: readonly BudgetItem[];
}

/** The bounded waits of one delivery of each function, each at its bound. */
export function deliveryBudget(config: ChainConfig): DeliveryBudget {
  return {
    // shared/usecases/deploy-run.ts: an inline build only when estimated
    // within INDEX_BUILD_INLINE_MAX_S (longer ones go to the job, no wait);
    // then deployRevision waits for the rollout.
    deploy: [
      {
        what: `inline index build (INDEX_BUILD_INLINE_MAX_S)`,
        seconds: config.indexBuild.inlineMaxSeconds,
      },
      {
        what: 'Cloud Run rollout of the new revision',
        seconds: CLOUD_RUN_READY_TIMEOUT_MS / 1000,
      },
    ],
    // shared/verification/verify-revision.ts stops every check at the
    // checks' time budget (the readiness wait included); then verify-run.ts
    // promotes (or discards), a traffic-only Cloud Run write.
    verify: [
      {
        what: 'all checks (VERIFY_CHECKS_TIMEOUT_MS, the readiness wait included)',
        seconds: config.verification.checksTimeoutMs / 1000,
      },
      {
        what: 'Cloud Run traffic move (promote or discard)',
        seconds: CLOUD_RUN_TRAFFIC_TIMEOUT_MS / 1000,
      },
    ],
  };
}

/** Sum of a function's items, in seconds. */
export function worstCaseSeconds(items: readonly BudgetItem[]): number {
  return items.reduce((sum, item) => sum + item.seconds, 0);
}

/**
 * The margin a function timeout keeps above its worst case: 20% of the
 * timeout, at least 60 s. The unbounded parts (Firestore transactions, GCS
 * reads and writes of bundles and indexes, cold start, an inline build that
 * runs past its estimate) take seconds each when healthy; a minute absorbs a
 * slow one without letting a real overrun hide.
 */
export function requiredMarginSeconds(timeoutSeconds: number): number {
  return Math.max(60, Math.ceil(timeoutSeconds * 0.2));
}

/** Why `items` do not fit `timeoutSeconds` with the margin, or undefined when they do. */
export function budgetProblem(
  name: string,
  items: readonly BudgetItem[],
  timeoutSeconds: number,
): string | undefined {
  const worst = worstCaseSeconds(items);
  const margin = requiredMarginSeconds(timeoutSeconds);
  if (worst + margin <= timeoutSeconds) return undefined;
  const parts = items.filter((i) => i.seconds > 0).map((i) => `${i.what} ${i.seconds} s`);
  return `${name}: one delivery may take ${worst} s (${parts.join(' + ')}), over its ${timeoutSeconds} s timeout less a ${margin} s margin`;
}

/**
 * Why one delivery of the function `d` describes may outlast its timeout:
 * its chain configuration is its env (placeholders filled in, as deployed)
 * over the defaults. Empty for functions without a budget here (register,
 * reconcile) and for those that fit.
 */
export function budgetProblemsOf(d: FunctionDeployment): string[] {
  if (d.workspace !== 'deploy' && d.workspace !== 'verify') return [];
  const env = Object.fromEntries(
    Object.entries(d.env).map(([key, value]) => [
      key,
      value
        .replaceAll(DEPLOY_PLACEHOLDERS.project, 'budget-project')
        .replaceAll(DEPLOY_PLACEHOLDERS.region, 'us-central1'),
    ]),
  );
  const items = deliveryBudget(loadChainConfig(env))[d.workspace];
  const problem = budgetProblem(`function ${d.name}`, items, d.timeoutSeconds);
  return problem === undefined ? [] : [problem];
}
