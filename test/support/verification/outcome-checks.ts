/** Reading a VerificationOutcome in the verification tests: its checks by name. */
import assert from 'node:assert/strict';
import type { VerificationOutcome } from '../../../shared/verification/index.js';

export const ALL_CHECKS = ['model_available', 'metadata_inputs', 'smoke_predictions', 'latency'];
/** ann-serving's answers name the run and bundle they come from: one check more (not TF Serving). */
export const ANN_SERVING_CHECKS = [...ALL_CHECKS.slice(0, 3), 'fingerprint', 'latency'];

export function check(outcome: VerificationOutcome, name: string) {
  const found = outcome.verification.checks.find((c) => c.name === name);
  assert.ok(found, `no check ${name} in ${JSON.stringify(outcome.verification.checks)}`);
  return { passed: found.passed, detail: found.detail ?? '' };
}

export function names(outcome: VerificationOutcome): string[] {
  return outcome.verification.checks.map((c) => c.name);
}

export function failedNames(outcome: VerificationOutcome): string[] {
  return outcome.verification.checks.filter((c) => !c.passed).map((c) => c.name);
}
