/**
 * The names of the verification checks, as they appear in a run document's
 * `verification.checks[]`. Dashboards and tests key on these strings, so they
 * are part of the run document contract (DESIGN.md §4).
 */
export const CHECK_NAMES = {
  modelAvailable: 'model_available',
  metadataInputs: 'metadata_inputs',
  smokePredictions: 'smoke_predictions',
  latency: 'latency',
  annRecall: 'ann_recall',
  fingerprint: 'fingerprint',
  replay: 'replay',
} as const;

export type CheckName = (typeof CHECK_NAMES)[keyof typeof CHECK_NAMES];
