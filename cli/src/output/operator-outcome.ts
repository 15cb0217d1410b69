/**
 * What `recdeploy retry` and `recdeploy deploy` print: which step starts
 * again and as which attempt, what the run was and is now, and each message
 * that went out to start it.
 */
import type { RunDocument, StepName } from '@recdeploy/shared';
import type { OperatorOutcome } from '@recdeploy/shared/chain';
import type { PublishedMessage } from './published-message.js';

export interface OperatorContext {
  readonly command: 'retry' | 'deploy';
  /** The run as it was before the request. */
  readonly before: RunDocument;
  readonly outcome: OperatorOutcome;
  readonly published: readonly PublishedMessage[];
  /** Where the messages went, for people: "the local bus /x/bus.db", "Pub/Sub project p". */
  readonly where: string;
  /** Published with --queue while no local stack runs. */
  readonly queued: boolean;
}

/** What `--json` prints. */
export interface OperatorReport {
  readonly runId: string;
  /** retry: a failed run reopened; redrive: a stuck run's step handed on again; deploy: on demand. */
  readonly action: 'retry' | 'redrive' | 'deploy';
  readonly step: StepName;
  /** The attempt number the step's next attempt will have. */
  readonly attempt: number;
  readonly previousStatus: RunDocument['status'];
  readonly status: RunDocument['status'];
  readonly published: readonly PublishedMessage[];
  readonly queued: boolean;
  readonly run: RunDocument;
}

export function operatorReport(context: OperatorContext): OperatorReport {
  const { outcome } = context;
  return {
    runId: outcome.run.runId,
    action: actionOf(context),
    step: outcome.step,
    attempt: nextAttempt(outcome),
    previousStatus: context.before.status,
    status: outcome.run.status,
    published: context.published,
    queued: context.queued,
    run: outcome.run,
  };
}

export function describeOperatorOutcome(context: OperatorContext): string[] {
  const { before, outcome } = context;
  const { run, step } = outcome;
  const attempt = nextAttempt(outcome);
  const lines: string[] = [];
  switch (actionOf(context)) {
    case 'retry':
      lines.push(`run ${run.runId}: its ${step} step starts again, as attempt ${attempt}`);
      break;
    case 'redrive':
      lines.push(
        `run ${run.runId}: no attempt held its ${step} step, so the step was handed on again (attempt ${attempt} next)`,
      );
      break;
    case 'deploy':
      lines.push(
        `run ${run.runId}: deployed on demand: its deploy step starts (attempt ${attempt}), then verify`,
      );
      break;
  }
  lines.push(`  was ${before.status}${reasonOf(before)}`);
  if (run.artifactUri !== before.artifactUri) {
    lines.push(`  artifact ${run.artifactUri} (was ${before.artifactUri})`);
  }
  if (context.command === 'deploy' && !run.isBlessed) {
    lines.push('  not blessed by the Evaluator: deployed anyway, as --allow-unblessed asked');
  }
  lines.push(`  now ${run.status}: waiting for its ${step} step`);
  for (const message of context.published) {
    lines.push(`  published ${message.topic} message ${message.messageId} to ${context.where}`);
  }
  return lines;
}

function actionOf(context: OperatorContext): OperatorReport['action'] {
  if (context.command === 'deploy') return 'deploy';
  return context.outcome.action === 'redriven' ? 'redrive' : 'retry';
}

function nextAttempt(outcome: OperatorOutcome): number {
  return outcome.run.steps[outcome.step].attempts + 1;
}

function reasonOf(run: RunDocument): string {
  const reason = run.statusReason?.split('\n', 1)[0];
  return reason === undefined || reason === '' ? '' : `: ${reason}`;
}
