/**
 * Verification of a deployed revision before promotion (the verify step).
 * It reads model bundles and runs the query tower and exact search for the
 * ANN recall check (TensorFlow.js is loaded on first use, hnswlib never), so
 * it stays out of the main entry point, like shared/ann.
 */
export { CHECK_NAMES, type CheckName } from './check-names.js';
export {
  DEFAULT_VERIFICATION_THRESHOLDS,
  assertValidThresholds,
  thresholdProblems,
  type VerificationThresholds,
} from './thresholds.js';
export {
  plannedChecks,
  verifyRevision,
  type ServingRuntime,
  type VerificationOutcome,
  type VerificationRequest,
} from './verify-revision.js';
export { createRevisionVerifier, type RevisionVerifierOptions } from './revision-verifier.js';
export { percentile, latencySummary } from './percentiles.js';
export {
  classifyIds,
  describeIdVerdict,
  productIdCatalogue,
  type IdVerdict,
  type ProductIdCatalogue,
} from './product-id-check.js';
export { scoreOrderProblem } from './score-order.js';
export { recallAtK } from './recall.js';
export { parseServingJson } from './serving-json.js';
