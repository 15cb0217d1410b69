/**
 * Faulty bundles for tests: a copy of a real bundle with ann/test-faults.json
 * (services/ann-serving/src/faults/test-faults.ts), which ann-serving obeys
 * only with ANN_SERVING_ALLOW_TEST_FAULTS=1 in its environment.
 */
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RevisionSpec } from '@recdeploy/shared';

/** The file's keys, as written (snake case). */
export interface TestFaultsFile {
  readonly error_ratio?: number;
  readonly extra_latency_ms?: number;
}

/** The environment that lets ann-serving obey a bundle's test faults. */
export const ALLOW_TEST_FAULTS: Readonly<Record<string, string>> = {
  ANN_SERVING_ALLOW_TEST_FAULTS: '1',
};

/**
 * Writes `{bundleDir}/ann/test-faults.json`: `faults` as JSON, or a string
 * as it is (for a malformed file). Returns the file's path.
 */
export async function writeTestFaults(
  bundleDir: string,
  faults: TestFaultsFile | string,
): Promise<string> {
  const file = path.join(bundleDir, 'ann', 'test-faults.json');
  await writeFile(file, typeof faults === 'string' ? faults : JSON.stringify(faults));
  return file;
}

/**
 * A copy of the bundle in `sourceDir` (the directory holding ann/) in a new
 * temporary directory, with the test faults added; returns the copy's
 * directory (the caller removes it).
 */
export async function copyBundleWithTestFaults(
  sourceDir: string,
  faults: TestFaultsFile | string,
): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ann-serving-faulty-'));
  await cp(sourceDir, dir, { recursive: true });
  await writeTestFaults(dir, faults);
  return dir;
}

/** The revision spec with ANN_SERVING_ALLOW_TEST_FAULTS=1 added to its environment. */
export function allowTestFaults(spec: RevisionSpec): RevisionSpec {
  return { ...spec, env: { ...spec.env, ...ALLOW_TEST_FAULTS } };
}
