import { PermanentError } from '../../errors.js';
import type { TrafficShare } from '../../ports/serving-platform.port.js';
import type {
  LocalServingState,
  RevisionRecord,
  StoredShare,
  TrafficChangeReason,
} from './local-serving-state.js';
import { describeSplit, splitShapeProblems } from './local-traffic-split.js';

/**
 * The local platform's refusals and messages around traffic: which splits it
 * takes, which revision it will not discard, and how a change is logged.
 */

/**
 * The revisions of a split the service can take, or PermanentError
 * `PLATFORM.REJECTED` naming every problem: the shape (whole percents 1–100,
 * total 100, each revision once), and each revision that does not exist or
 * is not ready (a stopped or failed revision cannot be given a share; a
 * promote or rollback brings a stopped one back first).
 */
export function checkSplit(
  service: string,
  split: readonly TrafficShare[],
  state: LocalServingState,
): RevisionRecord[] {
  const problems = splitShapeProblems(split);
  const records: RevisionRecord[] = [];
  if (state.service(service) === undefined) {
    problems.push(`service ${service} does not exist`);
  } else {
    for (const revision of new Set(split.map((share) => share.revision))) {
      const record = state.revision(service, revision);
      if (!record) problems.push(`revision ${revision} does not exist`);
      else if (record.state !== 'ready')
        problems.push(`revision ${revision} is ${record.state}, not ready`);
      else records.push(record);
    }
  }
  if (problems.length > 0) {
    throw new PermanentError(
      'PLATFORM.REJECTED',
      `traffic split [${describeSplit(split)}] of service ${service} refused: ${problems.join('; ')}`,
      { metadata: { service } },
    );
  }
  return records;
}

/** Why a revision with a share cannot be discarded. */
export function discardRefusal(service: string, share: StoredShare): PermanentError {
  const how =
    share.percent === 100
      ? 'promote or roll back to another revision'
      : 'give its share to other revisions (split, promote or roll back)';
  return new PermanentError(
    'PLATFORM.REJECTED',
    `revision ${share.revision} of service ${service} has ${share.percent}% of the traffic; ${how} before discarding it`,
    { metadata: { service, revision: share.revision, percent: share.percent } },
  );
}

/** The live revision's name, the split during a canary, or `none`. */
export function liveOrSplit(shares: readonly StoredShare[]): string {
  if (shares.length === 0) return 'none';
  const [only] = shares;
  if (shares.length === 1 && only) return only.revision;
  return `none, split ${describeSplit(shares)}`;
}

/** The log line of a traffic change. */
export function trafficMessage(
  service: string,
  split: readonly StoredShare[],
  reason: TrafficChangeReason,
): string {
  if (reason === 'split') return `service ${service} traffic split: ${describeSplit(split)}`;
  const verb = reason === 'promote' ? 'promoted' : 'rolled back';
  return `service ${service} ${verb} to revision ${split[0]?.revision ?? 'none'}`;
}
