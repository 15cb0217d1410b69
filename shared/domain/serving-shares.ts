/**
 * Reading traffic for the serving record: the shares an observation lists,
 * which revision serves (and its run), and comparisons of records.
 */
import type { RunDocument } from './run-document.js';
import type {
  ObservedTraffic,
  RecordServingRequest,
  ServingRecord,
  ServingShare,
} from './serving-record-types.js';

/**
 * The revision that serves, and its run: the one with all the traffic, or
 * else the largest share, except that while a canary runs the stable
 * revision serves (it stays the live run until the canary is promoted), even
 * when the canary's share is as large or larger.
 */
export function servingOwner(
  request: RecordServingRequest,
  traffic: readonly ServingShare[],
  runOf: (revision: string) => RunDocument | undefined,
): { serving?: string; owner?: RunDocument } {
  const serving = request.observed.liveRevision ?? traffic[0]?.revision;
  const owner = serving === undefined ? undefined : runOf(serving);
  if (owner?.status !== 'canary' || request.finishCanary?.runId === owner.runId) {
    return { ...(serving === undefined ? {} : { serving }), ...(owner ? { owner } : {}) };
  }
  const stable = traffic.find((share) => runOf(share.revision)?.status === 'live');
  const stableRun = stable === undefined ? undefined : runOf(stable.revision);
  if (stable === undefined || stableRun === undefined) return { serving, owner };
  return { serving: stable.revision, owner: stableRun };
}

/** True when two records say the same about what serves (times and cause aside). */
export function sameServing(a: ServingRecord, b: ServingRecord): boolean {
  return (
    a.liveRevision === b.liveRevision &&
    a.liveRunId === b.liveRunId &&
    a.serviceUrl === b.serviceUrl &&
    a.traffic.length === b.traffic.length &&
    // Field by field: a store need not keep the key order of a map (Firestore does not).
    a.traffic.every((share, i) => {
      const other = b.traffic[i];
      return (
        other !== undefined &&
        share.revision === other.revision &&
        share.percent === other.percent &&
        share.runId === other.runId &&
        share.tag === other.tag
      );
    })
  );
}

/** The traffic share of `revision`, 0 when it has none. */
export function trafficPercent(record: ServingRecord | undefined, revision: string | undefined) {
  if (record === undefined || revision === undefined) return 0;
  return record.traffic.find((share) => share.revision === revision)?.percent ?? 0;
}

export function sharesOf(
  observed: ObservedTraffic,
  runOf: (revision: string) => RunDocument | undefined,
): ServingShare[] {
  const percents = new Map<string, { percent: number; tag?: string }>();
  for (const target of observed.targets) {
    const seen = percents.get(target.revision);
    const percent = (seen?.percent ?? 0) + target.percent;
    const tag = seen?.tag ?? target.tag;
    percents.set(target.revision, tag === undefined ? { percent } : { percent, tag });
  }
  return [...percents.entries()]
    .filter(([, share]) => share.percent > 0)
    .sort((a, b) => b[1].percent - a[1].percent || (a[0] < b[0] ? -1 : 1))
    .map(([revision, share]) => {
      const runId = runOf(revision)?.runId;
      return {
        revision,
        percent: share.percent,
        ...(runId === undefined ? {} : { runId }),
        ...(share.tag === undefined ? {} : { tag: share.tag }),
      };
    });
}
