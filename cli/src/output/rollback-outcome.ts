/**
 * What `recdeploy rollback` prints: the move, what became of the run that
 * was live (rolled_back, or replaced when the target run is newer), which
 * run serves now, the traffic as the platform reports it afterwards, and the
 * deployment-finished messages that went out.
 */
import type { RollbackResult } from '@recdeploy/shared/chain';
import type { PublishedMessage } from './published-message.js';

interface Share {
  readonly revision: string;
  readonly percent: number;
}

/** What --json prints. */
export function rollbackReport(
  result: RollbackResult,
  published: readonly PublishedMessage[],
): Record<string, unknown> {
  const target = result.targetRun;
  return {
    service: result.service,
    serviceUrl: result.traffic.serviceUrl,
    fromRevision: result.fromRevision,
    toRevision: result.toRevision,
    targetSource: result.targetSource,
    rolledBackRunId: result.rolledBack.runId,
    rolledBackStatus: result.rolledBack.status,
    ...(target === undefined ? {} : { targetRunId: target.runId }),
    servingNow: {
      ...(result.traffic.liveRevision === undefined
        ? {}
        : { revision: result.traffic.liveRevision }),
      ...(target === undefined ? {} : { runId: target.runId, status: target.status }),
      traffic: sharesOf(result),
    },
    published,
    run: result.rolledBack,
  };
}

export function describeRollback(
  result: RollbackResult,
  published: readonly PublishedMessage[],
): string[] {
  const { rolledBack, targetRun: target } = result;
  const whose =
    target === undefined
      ? 'no run of this endpoint deployed it'
      : `run ${target.runId}, run number ${target.runNumber}, ${target.status}`;
  const lines = [
    `rolled back service ${result.service}: revision ${result.fromRevision} → ${result.toRevision}`,
    `  run ${rolledBack.runId} (revision ${result.fromRevision}) is ${rolledBack.status}: ${rolledBack.statusReason ?? ''}`,
    `  now serving revision ${result.traffic.liveRevision ?? result.toRevision} (${whose}) at ${result.traffic.serviceUrl}`,
    `  traffic as the platform reports it: ${
      sharesOf(result)
        .map((share) => `${share.revision} ${share.percent}%`)
        .join(', ') || 'none'
    }`,
    ...announced(published),
  ];
  if (result.targetSource === 'already_serving') {
    lines.push(
      `  the platform already served revision ${result.toRevision}: the move had not been recorded (an interrupted rollback, or a change made outside recdeploy); recorded now`,
    );
  }
  return lines;
}

/** "deployment-finished published to T: run a rolled_back, run b live". */
function announced(published: readonly PublishedMessage[]): string[] {
  if (published.length === 0)
    return ['  no deployment-finished message: no run ended or went live'];
  const byTopic = new Map<string, string[]>();
  for (const message of published) {
    const list = byTopic.get(message.topic) ?? [];
    list.push(`run ${message.runId ?? '?'} ${message.outcome ?? '?'}`);
    byTopic.set(message.topic, list);
  }
  return [...byTopic].map(
    ([topic, runs]) => `  deployment-finished published to ${topic}: ${runs.join(', ')}`,
  );
}

/** Every revision with a share, largest first; a lone liveRevision holds 100%. */
function sharesOf(result: RollbackResult): Share[] {
  const shares = result.traffic.targets
    .filter((target) => target.percent > 0)
    .map((target) => ({ revision: target.revision, percent: target.percent }))
    .sort((a, b) => b.percent - a.percent);
  const live = result.traffic.liveRevision;
  return shares.length === 0 && live !== undefined ? [{ revision: live, percent: 100 }] : shares;
}
