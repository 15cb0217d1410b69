/**
 * What `recdeploy promote` and `recdeploy abort` print: the request as
 * recorded, then either its outcome (the canary's result and reason, the
 * run's status, and what its service serves now, from the serving record)
 * or who will carry it out when it was not carried out while the command
 * waited (or it did not wait).
 */
import type {
  CanaryOutcome,
  CanaryPhase,
  RunDocument,
  RunStatus,
  ServingRecord,
} from '@recdeploy/shared';
import { phaseWords } from './canary-steps.js';
import type { PublishedMessage } from './published-message.js';

export interface CanaryActionContext {
  readonly action: 'promote' | 'abort';
  /** The run as stored with the request. */
  readonly recorded: RunDocument;
  /** The run as last read (after the wait, if any). */
  readonly final: RunDocument;
  /** The canary ended (or the run left `canary`) while the command waited. */
  readonly carriedOut: boolean;
  /** How long the command waited, in seconds; undefined when it did not wait. */
  readonly waitedS?: number;
  /** Who carries the request out, in words (canary-wait.ts). */
  readonly carrier: string;
  readonly published: readonly PublishedMessage[];
  /** Where the messages went: "Pub/Sub project p". */
  readonly where: string;
  /** The serving record of the run's service as last read. */
  readonly serving?: ServingRecord;
}

/** What `--json` prints. */
export interface CanaryActionReport {
  readonly runId: string;
  readonly action: 'promote' | 'abort';
  readonly requestedBy: string;
  readonly requestedAt: string;
  /** True once the canary ended (or the run left `canary`): the outcome below is final. */
  readonly carriedOut: boolean;
  readonly carrier: string;
  readonly waitedS?: number;
  readonly status: RunStatus;
  readonly phase?: CanaryPhase;
  readonly outcome?: CanaryOutcome;
  readonly statusReason?: string;
  readonly published: readonly PublishedMessage[];
  readonly serving?: ServingRecord;
  readonly run: RunDocument;
}

export function canaryActionReport(context: CanaryActionContext): CanaryActionReport {
  const { final } = context;
  const request = context.recorded.canary?.request;
  return {
    runId: final.runId,
    action: context.action,
    requestedBy: request?.by ?? '?',
    requestedAt: request?.at ?? '?',
    carriedOut: context.carriedOut,
    carrier: context.carrier,
    ...(context.waitedS === undefined ? {} : { waitedS: context.waitedS }),
    status: final.status,
    ...(final.canary === undefined ? {} : { phase: final.canary.phase }),
    ...(final.canary?.outcome === undefined ? {} : { outcome: final.canary.outcome }),
    ...(final.statusReason === undefined ? {} : { statusReason: final.statusReason }),
    published: context.published,
    ...(context.serving === undefined ? {} : { serving: context.serving }),
    run: final,
  };
}

export function describeCanaryAction(context: CanaryActionContext): string[] {
  const { recorded, final } = context;
  const canary = recorded.canary;
  const request = canary?.request;
  const lines = [
    `run ${recorded.runId}: ${context.action} recorded, requested by ${request?.by ?? '?'} at ${request?.at ?? '?'}`,
  ];
  if (canary !== undefined) {
    lines.push(
      `  canary of revision ${canary.revision} against stable ${canary.stableRevision}, ${phaseWords(canary)} when asked`,
    );
  }
  for (const message of context.published) {
    lines.push(`  published ${message.topic} message ${message.messageId} to ${context.where}`);
  }
  if (!context.carriedOut) {
    const waited =
      context.waitedS === undefined
        ? ''
        : `not carried out within ${context.waitedS} s; the request stays recorded in the run: `;
    lines.push(`  ${waited}${context.carrier}`);
    return lines;
  }
  const outcome = final.canary?.outcome;
  if (outcome !== undefined) lines.push(`  ${outcome.result}: ${outcome.reason}`);
  const reason = final.statusReason === undefined ? '' : `: ${final.statusReason}`;
  lines.push(`  now ${final.status}${reason}`);
  if (context.serving !== undefined) lines.push(`  ${servingWords(context.serving)}`);
  return lines;
}

/** `service rec-home serves rec-home-r7 100% (run home-train-7)`, every share largest first. */
export function servingWords(record: ServingRecord): string {
  if (record.traffic.length === 0) return `service ${record.service} serves nothing`;
  const shares = record.traffic.map(
    (share) =>
      `${share.revision} ${share.percent}%${share.runId === undefined ? '' : ` (run ${share.runId})`}`,
  );
  return `service ${record.service} serves ${shares.join(', ')}`;
}
