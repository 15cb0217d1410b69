import type { TrafficShare } from '../../ports/serving-platform.port.js';

/**
 * The arithmetic of a service's traffic split on the local platform: whether
 * a split is well formed, which revision is primary, and which revision a
 * request goes to. Pure, so the rules are tested without processes.
 */

/** Every problem with the split's shape (percents, total, repeats), in words; empty when none. */
export function splitShapeProblems(split: readonly TrafficShare[]): string[] {
  if (split.length === 0) return ['the split names no revision'];
  const problems: string[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (const { revision, percent } of split) {
    if (!Number.isInteger(percent) || percent < 1 || percent > 100) {
      problems.push(`revision ${revision} has ${percent}%, not a whole percent from 1 to 100`);
    }
    if (seen.has(revision)) problems.push(`revision ${revision} is named more than once`);
    seen.add(revision);
    total += percent;
  }
  if (total !== 100) problems.push(`the shares total ${total}%, not 100%`);
  return problems;
}

/** The same shares, whatever their order. */
export function sameSplit(a: readonly TrafficShare[], b: readonly TrafficShare[]): boolean {
  if (a.length !== b.length) return false;
  const percents = new Map(a.map((share) => [share.revision, share.percent]));
  return b.every((share) => percents.get(share.revision) === share.percent);
}

/**
 * The revision with the largest share. A tie keeps `current` when it is one
 * of the tied (a 50/50 step is not a change of the stable revision), else
 * the first of them: callers list shares in deployment order, so the older.
 */
export function primaryOf(
  shares: readonly TrafficShare[],
  current: string | undefined,
): string | undefined {
  const largest = Math.max(0, ...shares.map((share) => share.percent));
  const tied = shares.filter((share) => share.percent === largest);
  return (tied.find((share) => share.revision === current) ?? tied[0])?.revision;
}

/** The split as an operator reads it: `recs-a 90%, recs-b 10%`. */
export function describeSplit(shares: readonly TrafficShare[]): string {
  return shares.map((share) => `${share.revision} ${share.percent}%`).join(', ');
}

/**
 * The share a request goes to, drawn by weight as Cloud Run assigns
 * requests to revisions (at random, in proportion to their percent).
 * `draw` is uniform in [0, 1); undefined when there are no shares.
 */
export function chooseShare<T extends { readonly percent: number }>(
  shares: readonly T[],
  draw: number,
): T | undefined {
  const total = shares.reduce((sum, share) => sum + share.percent, 0);
  let point = draw * total;
  for (const share of shares) {
    if (point < share.percent) return share;
    point -= share.percent;
  }
  // Rounding can leave the point at the very end: it belongs to the last share.
  return shares[shares.length - 1];
}
