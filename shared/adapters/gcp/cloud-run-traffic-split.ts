/**
 * Traffic for a canary step: the shares a split asks for, checked before
 * anything is sent, and the traffic list that gives them while keeping the
 * tag URLs still in use. No I/O.
 */
import type { TrafficShare } from '../../ports/serving-platform.port.js';
import {
  REVISION,
  desiredTargets,
  keyOf,
  observedTargets,
  planned,
  servingTargets,
  sharesOf,
  tagOf,
  type PlannedTarget,
  type ServiceSnapshot,
} from './cloud-run-traffic-targets.js';

/**
 * Why `split` cannot be sent, or undefined when it can. The port's contract
 * (whole percents 1–100, total 100, each revision once) is stricter than
 * Cloud Run, which also takes 0% targets and refuses only a total other than
 * 100 (cloud-run-fake-services.ts cites the check); refusing here means a bad
 * split never reaches the service.
 */
export function splitProblem(split: readonly TrafficShare[]): string | undefined {
  if (split.length === 0) return 'a split needs at least one revision';
  const seen = new Set<string>();
  for (const { revision, percent } of split) {
    if (!revision) return 'every share must name a revision';
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
      return `revision ${revision} is given ${percent}%: shares are whole percents from 1 to 100`;
    }
    if (seen.has(revision)) return `revision ${revision} appears more than once`;
    seen.add(revision);
  }
  const total = split.reduce((sum, share) => sum + share.percent, 0);
  return total === 100 ? undefined : `the shares total ${total}%, not 100%`;
}

/** "a 10%, b 90%", for messages and logs. */
export function describeSplit(
  split: readonly Pick<TrafficShare, 'revision' | 'percent'>[],
): string {
  return split.map((s) => `${s.revision} ${s.percent}%`).join(', ');
}

/** What Cloud Run serves, for messages: "a 10%, b 90%", or "nothing". */
export function describeServing(current: ServiceSnapshot): string {
  const serving = [...sharesOf(servingTargets(current))];
  if (serving.length === 0) return 'nothing';
  return describeSplit(serving.map(([revision, percent]) => ({ revision, percent })));
}

/**
 * Traffic giving exactly `split`: each listed revision its share (under its
 * tag, when it has one), every other revision 0%. A revision leaving the
 * split, the rollback target promote left tagged, and revisions deployed at
 * 0% for verification keep their tags at 0%, so their URLs still reach them;
 * only tags Cloud Run routes and the desired traffic still wants are kept (a
 * discarded revision's tag stays gone). Untagged revisions outside the split
 * are left out: they get 0% without being listed.
 */
export function trafficForSplit(
  current: ServiceSnapshot,
  split: readonly TrafficShare[],
): PlannedTarget[] {
  const targets: PlannedTarget[] = split.map(({ revision, percent }) => {
    const tag = tagOf(current, revision);
    return { type: REVISION, revision, percent, ...(tag !== undefined && { tag }) };
  });
  const inSplit = new Set(split.map((s) => s.revision));
  const taken = new Set(targets.flatMap((t) => (t.tag === undefined ? [] : [t.tag])));
  const wanted = new Set(desiredTargets(current).map(keyOf));
  for (const target of observedTargets(current)) {
    const { revision, tag } = target;
    if (tag === undefined || inSplit.has(revision) || taken.has(tag)) continue;
    if (!wanted.has(keyOf(target))) continue;
    taken.add(tag);
    targets.push({ ...planned(target), percent: 0 });
  }
  return targets;
}

/** True when Cloud Run serves exactly `split` (observed shares, whatever the tags). */
export function servesSplit(current: ServiceSnapshot, split: readonly TrafficShare[]): boolean {
  return sameShares(sharesOf(servingTargets(current)), split);
}

/**
 * True when `split` is both asked for and served, so sending it again would
 * change nothing. Served but not asked is a later traffic change that failed
 * to reconcile (its desired list still names it): splitting again must
 * replace it, as promoting again does (holdsAllTraffic).
 */
export function hasSplit(current: ServiceSnapshot, split: readonly TrafficShare[]): boolean {
  return servesSplit(current, split) && sameShares(sharesOf(desiredTargets(current)), split);
}

function sameShares(shares: ReadonlyMap<string, number>, split: readonly TrafficShare[]): boolean {
  return shares.size === split.length && split.every((s) => shares.get(s.revision) === s.percent);
}
