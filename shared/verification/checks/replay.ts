/**
 * `replay`: the live revision's sample of real predict instances, replayed
 * against the candidate (its tag URL) and the live revision before any
 * traffic moves. It measures recall@k of the candidate's ANN answers against
 * exact search on its own bundle (ann-serving in `ann` mode only: no ground
 * truth needed), overlap@k between candidate and live, the share of the
 * candidate's degenerate answers, and single-query latency p50/p99 on both.
 * Gates: recall ≥ minRecall (the ann_recall floor), and overlap ≥ the
 * endpoint's min_overlap when its policy sets one. A live revision that does
 * not answer loses its side (no overlap, no live latency, said in the
 * detail) but does not fail the candidate: it is not the candidate's fault.
 * Without a sample (first deploy, sampling off, nothing written yet) the
 * check is skipped, not passed.
 * Details never quote an instance: samples can hold customer data.
 */
import type { ReplayReport, VerificationCheck } from '../../domain/run-document.js';
import { RecdeployError } from '../../errors.js';
import { CHECK_NAMES } from '../check-names.js';
import { checkResult, type CheckContext } from '../check-context.js';
import { BUNDLE_FAULTS, exactTopK } from '../exact-top-k.js';
import { roundMs, roundRatio } from '../format.js';
import { latencySummary } from '../percentiles.js';
import { predictInChunks } from '../predict-in-chunks.js';
import { meanAndWorst, recallAtK } from '../recall.js';
import { describeFailure, type RevisionClient } from '../revision-client.js';
import type { ReplayInput, ReplaySampleToReplay } from '../replay-input.js';
import { isDegenerateAnswer, overlapAtK } from '../replay-metrics.js';

export interface ReplayMeasurement {
  readonly check: VerificationCheck;
  /** Set when the candidate answered every replayed query, passed or not. */
  readonly report?: ReplayReport;
}

export interface ReplayOptions {
  /** ann-serving in `ann` mode: only then is recall against exact search measured (and gated). */
  readonly approximate: boolean;
  /** A client for the live revision's URL (same timeouts and headers as the candidate's). */
  readonly liveClient: (url: string) => RevisionClient;
}

export async function checkReplay(
  context: CheckContext,
  input: ReplayInput,
  options: ReplayOptions,
): Promise<ReplayMeasurement> {
  if ('notRun' in input) {
    return {
      check: { name: CHECK_NAMES.replay, passed: false, skipped: true, detail: input.notRun },
    };
  }
  const fail = (detail: string) => ({ check: checkResult(CHECK_NAMES.replay, false, detail) });
  const { k } = context;
  const instances = input.instances;
  const candidate = await predictInChunks(context.client, instances);
  if ('problem' in candidate)
    return fail(`the candidate failed a replayed query: ${candidate.problem}`);
  const liveClient = options.liveClient(input.liveUrl);
  const live = await predictInChunks(liveClient, instances);

  let recall: number | undefined;
  if (options.approximate) {
    try {
      const exact = await exactTopK(context.bundle, instances, k);
      recall = meanAndWorst(
        candidate.lists.map((list, i) => recallAtK(list.productIds, exact[i]!)),
      ).mean;
    } catch (error) {
      if (error instanceof RecdeployError && BUNDLE_FAULTS.has(error.code)) {
        return fail(
          `cannot compute the exact top-${k} of the live queries locally: ${error.message}`,
        );
      }
      throw error;
    }
  }
  const overlap =
    'lists' in live
      ? meanAndWorst(
          candidate.lists.map((list, i) =>
            overlapAtK(list.productIds, live.lists[i]!.productIds, k),
          ),
        ).mean
      : undefined;
  const degenerate = candidate.lists.filter((list) => isDegenerateAnswer(list, k)).length;
  const latency = await measureLatency(context, liveClient, input);
  if ('problem' in latency) return fail(latency.problem);

  const report: ReplayReport = {
    sampleUri: input.sampleUri,
    sampledAt: input.sampledAt,
    liveRevision: input.liveRevision,
    queries: instances.length,
    k,
    ...(recall === undefined ? {} : { recallAtK: roundRatio(recall) }),
    ...(overlap === undefined ? {} : { overlapAtK: roundRatio(overlap) }),
    degenerateShare: roundRatio(degenerate / instances.length),
    candidateLatencyP50Ms: latency.candidate.p50,
    candidateLatencyP99Ms: latency.candidate.p99,
    ...(latency.live === undefined
      ? {}
      : { liveLatencyP50Ms: latency.live.p50, liveLatencyP99Ms: latency.live.p99 }),
  };
  const { minRecall } = context.thresholds;
  const problems = [
    ...(recall !== undefined && recall < minRecall ? ['recall too low'] : []),
    ...(overlap !== undefined && input.minOverlap !== undefined && overlap < input.minOverlap
      ? ['overlap with live too low']
      : []),
  ];
  const liveProblem = 'problem' in live ? live.problem : undefined;
  const detail = describeReport(report, input, minRecall, liveProblem);
  return {
    check: checkResult(
      CHECK_NAMES.replay,
      problems.length === 0,
      problems.length === 0 ? detail : `${problems.join(', ')}: ${detail}`,
    ),
    report,
  };
}

type Percentiles = { readonly p50: number; readonly p99: number };

/**
 * Sequential single-instance predicts of the first `latencySamples` replayed
 * instances, candidate then live for each, so both see the same queries at
 * the same moments. A live revision that does not answer only loses its side.
 */
async function measureLatency(
  context: CheckContext,
  liveClient: RevisionClient,
  input: ReplaySampleToReplay,
): Promise<{ candidate: Percentiles; live?: Percentiles } | { problem: string }> {
  const queries = input.instances.slice(0, context.thresholds.latencySamples);
  const candidateMs: number[] = [];
  const liveMs: number[] = [];
  let liveAnswers = true;
  for (const [i, instance] of queries.entries()) {
    const result = await context.client.predict([instance]);
    if ('failure' in result || result.answer.status !== 200) {
      return {
        problem: `the candidate failed replayed query ${i} of the latency sample: ${describeFailure(result)}`,
      };
    }
    candidateMs.push(result.answer.ms);
    if (!liveAnswers) continue;
    const liveResult = await liveClient.predict([instance]);
    if ('failure' in liveResult || liveResult.answer.status !== 200) liveAnswers = false;
    else liveMs.push(liveResult.answer.ms);
  }
  const round = (samples: number[]): Percentiles => {
    const summary = latencySummary(samples);
    return { p50: roundMs(summary.p50), p99: roundMs(summary.p99) };
  };
  return {
    candidate: round(candidateMs),
    ...(liveAnswers && liveMs.length > 0 ? { live: round(liveMs) } : {}),
  };
}

function describeReport(
  report: ReplayReport,
  input: ReplaySampleToReplay,
  minRecall: number,
  liveProblem: string | undefined,
): string {
  const { k } = report;
  const parts = [
    `${report.queries} live queries of revision ${input.liveRevision} (sample written ${input.sampledAt})`,
    report.recallAtK === undefined
      ? `recall@${k} not measured (exact serving)`
      : `recall@${k} ${report.recallAtK} against exact search (minRecall ${minRecall})`,
    report.overlapAtK === undefined
      ? `overlap@${k} not measured: the live revision did not answer (${liveProblem ?? 'no answer'})`
      : `overlap@${k} with live ${report.overlapAtK} (${input.minOverlap === undefined ? 'reported only' : `min ${input.minOverlap}`})`,
    `degenerate ${report.degenerateShare}`,
    `p50/p99 candidate ${report.candidateLatencyP50Ms}/${report.candidateLatencyP99Ms} ms` +
      (report.liveLatencyP50Ms === undefined
        ? ''
        : `, live ${report.liveLatencyP50Ms}/${report.liveLatencyP99Ms} ms`),
  ];
  return parts.join('; ');
}
