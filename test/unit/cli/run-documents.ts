/** Run documents and serving records for the CLI's output tests, built by hand (no store). */
import type { RunDocument, ServingRecord, StepState } from '@recdeploy/shared';

const PENDING: StepState = { status: 'pending', attempts: 0 };

/** A live run of endpoint `home`, created at 10:00:00 and live at 10:01:30; override what a test is about. */
export function liveRun(overrides: Partial<RunDocument> = {}): RunDocument {
  return {
    runId: 'home-train-7',
    trainingRunId: 'train-7',
    modelEndpointId: 'home',
    modelSlug: 'two-tower',
    runNumber: 7,
    modelType: 'retrieval',
    retrievalAlgorithm: 'hnsw',
    artifactUri: 'gs://models/home/7',
    isBlessed: true,
    metrics: { recall_at_100: 0.97 },
    status: 'live',
    steps: {
      register: step('10:00:00.000', '10:00:01.200', 1),
      deploy: step('10:00:01.300', '10:01:10.000', 2),
      verify: step('10:01:10.100', '10:01:30.000', 1),
    },
    registry: { model: 'projects/p/locations/r/models/1', version: '3' },
    serving: {
      runtime: 'ann-serving',
      mode: 'ann',
      runtimeReason: 'retrieval with hnsw: approximate nearest neighbours',
      service: 'rec-home',
      revision: 'rec-home-r7-abcd1234',
      url: 'http://127.0.0.1:4100',
      tagUrl: 'http://127.0.0.1:4101',
    },
    verification: {
      checks: [
        { name: 'model_available', passed: true, detail: 'AVAILABLE after 1.1 s' },
        { name: 'latency', passed: true, detail: 'p50 3 ms, p99 9 ms' },
      ],
      latencyP50Ms: 3,
      latencyP99Ms: 9,
      recallAtK: { k: 10, recall: 0.96 },
    },
    history: [],
    createdAt: '2030-01-01T10:00:00.000Z',
    updatedAt: '2030-01-01T10:01:30.000Z',
    ...overrides,
  };
}

/** A run that was just received: every step pending. */
export function receivedRun(overrides: Partial<RunDocument> = {}): RunDocument {
  const run: { -readonly [K in keyof RunDocument]?: RunDocument[K] } = { ...liveRun() };
  // Nothing registered, deployed or verified yet.
  delete run.serving;
  delete run.verification;
  delete run.registry;
  return {
    ...(run as RunDocument),
    status: 'received',
    steps: { register: PENDING, deploy: PENDING, verify: PENDING },
    updatedAt: '2030-01-01T10:00:00.000Z',
    ...overrides,
  };
}

/** The record of service rec-home while liveRun() serves it: 100% since 10:01:30. */
export function servingRecord(overrides: Partial<ServingRecord> = {}): ServingRecord {
  return {
    service: 'rec-home',
    modelEndpointId: 'home',
    serviceUrl: 'http://127.0.0.1:4100',
    liveRevision: 'rec-home-r7-abcd1234',
    liveRunId: 'home-train-7',
    traffic: [{ revision: 'rec-home-r7-abcd1234', percent: 100, runId: 'home-train-7' }],
    since: '2030-01-01T10:01:30.000Z',
    cause: 'run home-train-7 verified and promoted',
    observedAt: '2030-01-01T10:01:30.000Z',
    ...overrides,
  };
}

function step(
  start: string,
  end: string,
  attempts: number,
  extra: Partial<StepState> = {},
): StepState {
  return {
    status: 'succeeded',
    attempts,
    startedAt: `2030-01-01T${start}Z`,
    endedAt: `2030-01-01T${end}Z`,
    ...extra,
  };
}

/** Run 9's revision: run 9 took run 7's traffic at 10:03:00. */
export const R9 = 'rec-home-r9-99999999';

/** Run 7 was live until run 9 took its traffic at 10:03:00. */
export function replacedSeven(): RunDocument {
  return liveRun({
    status: 'replaced',
    replacedBy: 'home-train-9',
    statusReason: `replaced by run home-train-9: its revision ${R9} took the traffic (run home-train-9 verified and promoted)`,
    updatedAt: '2030-01-01T10:03:00.000Z',
  });
}
export function liveNine(): RunDocument {
  return liveRun({
    runId: 'home-train-9',
    trainingRunId: 'train-9',
    runNumber: 9,
    serving: { ...liveRun().serving!, revision: R9 },
    createdAt: '2030-01-01T10:02:00.000Z',
    updatedAt: '2030-01-01T10:03:00.000Z',
  });
}
/** Service rec-home's record once run 9 serves. */
export const NINE_SERVES = servingRecord({
  liveRevision: R9,
  liveRunId: 'home-train-9',
  traffic: [{ revision: R9, percent: 100, runId: 'home-train-9' }],
  since: '2030-01-01T10:03:00.000Z',
  previous: {
    revision: 'rec-home-r7-abcd1234',
    runId: 'home-train-7',
    until: '2030-01-01T10:03:00.000Z',
  },
  observedAt: '2030-01-01T10:03:00.000Z',
});
