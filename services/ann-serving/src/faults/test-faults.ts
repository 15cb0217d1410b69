/**
 * A test-only fault switch, so a stack test can deploy a revision that fails
 * a known share of its predictions or answers slowly, and check that a
 * canary judgement notices. Two keys must turn it on: the bundle carries
 * `ann/test-faults.json` AND the process runs with
 * ANN_SERVING_ALLOW_TEST_FAULTS=1. A bundle with the file served without the
 * variable (any real deployment) ignores it, with one warning.
 *
 * `{"error_ratio": 0.05, "extra_latency_ms": 40}`, both optional:
 * - error_ratio (0–1): exactly that share of predict requests answers 500,
 *   deterministically: request i (from 0) fails when
 *   floor((i+1)·ratio) > floor(i·ratio), so n requests see floor(n·ratio)
 *   failures, spread evenly;
 * - extra_latency_ms (0–60000): every predict answer (failed ones too) is
 *   delayed by that much;
 * - only_customer_ids_matching: a regular expression; when given, only
 *   requests with an instance whose `customer_id` matches it count for the
 *   faults (the others are served as usual). That is the model that passes
 *   verification on the bundle's examples and fails on real traffic's other
 *   inputs, which a canary is there to catch.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@recdeploy/shared';

export const TEST_FAULTS_FILE = 'test-faults.json';
/** The message of an injected failure, in TF Serving's `{"error": …}`. */
export const INJECTED_FAULT_MESSAGE = `injected test fault (ann/${TEST_FAULTS_FILE})`;
const MAX_EXTRA_LATENCY_MS = 60_000;

export interface TestFaults {
  readonly errorRatio: number;
  readonly extraLatencyMs: number;
  readonly onlyCustomerIds?: RegExp;
}

/** What happens to one predict request. */
export interface InjectedFault {
  readonly fail: boolean;
  readonly delayMs: number;
}

/** Decides, request by request, which predict requests fail and how long each waits. */
export class TestFaultInjector {
  private requests = 0;

  constructor(readonly faults: TestFaults) {}

  /** The fault of the next request; none for a request the faults do not select. */
  next(instances: readonly Readonly<Record<string, unknown>>[] = []): InjectedFault {
    const { errorRatio, extraLatencyMs, onlyCustomerIds } = this.faults;
    if (
      onlyCustomerIds !== undefined &&
      !instances.some((instance) => onlyCustomerIds.test(customerIdOf(instance)))
    ) {
      return { fail: false, delayMs: 0 };
    }
    const i = this.requests++;
    return {
      fail: Math.floor((i + 1) * errorRatio) > Math.floor(i * errorRatio),
      delayMs: extraLatencyMs,
    };
  }
}

/**
 * The bundle's fault injector (`annDir` holds manifest.json), or undefined
 * when the bundle has no fault file or the process does not allow faults.
 * @throws Error naming the file and every problem when it is malformed.
 */
export async function loadTestFaults(
  annDir: string,
  allowed: boolean,
  logger: Logger,
): Promise<TestFaultInjector | undefined> {
  const file = path.join(annDir, TEST_FAULTS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  if (!allowed) {
    logger.warn(
      `${TEST_FAULTS_FILE} ignored: set ANN_SERVING_ALLOW_TEST_FAULTS=1 to inject its faults`,
      {
        file,
      },
    );
    return undefined;
  }
  const faults = parseTestFaults(text, file);
  logger.warn('TEST FAULTS INJECTED into predict answers', { file, ...faults });
  return new TestFaultInjector(faults);
}

/** Validates the file's JSON; throws an Error listing every problem. */
export function parseTestFaults(text: string, file: string): TestFaults {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(
      `${file}: not JSON (${error instanceof Error ? error.message : String(error)})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(
      `${file}: must be a JSON object like {"error_ratio": 0.05, "extra_latency_ms": 40}`,
    );
  }
  const document = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(document)) {
    if (!KNOWN_KEYS.includes(key)) {
      problems.push(`unknown key "${key}" (known: ${KNOWN_KEYS.join(', ')})`);
    }
  }
  let onlyCustomerIds: RegExp | undefined;
  const pattern = document.only_customer_ids_matching;
  if (pattern !== undefined) {
    try {
      if (typeof pattern !== 'string') throw new Error('not a string');
      onlyCustomerIds = new RegExp(pattern);
    } catch (error) {
      problems.push(
        `only_customer_ids_matching must be a regular expression, got ${JSON.stringify(pattern)} (${error instanceof Error ? error.message : String(error)})`,
      );
    }
  }
  const ratio = document.error_ratio ?? 0;
  if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
    problems.push(`error_ratio must be a number from 0 to 1, got ${JSON.stringify(ratio)}`);
  }
  const latency = document.extra_latency_ms ?? 0;
  if (
    typeof latency !== 'number' ||
    !Number.isInteger(latency) ||
    latency < 0 ||
    latency > MAX_EXTRA_LATENCY_MS
  ) {
    problems.push(
      `extra_latency_ms must be a whole number from 0 to ${MAX_EXTRA_LATENCY_MS}, got ${JSON.stringify(latency)}`,
    );
  }
  if (problems.length > 0) throw new Error(`${file}: ${problems.join('; ')}`);
  return {
    errorRatio: ratio as number,
    extraLatencyMs: latency as number,
    ...(onlyCustomerIds === undefined ? {} : { onlyCustomerIds }),
  };
}

const KNOWN_KEYS = ['error_ratio', 'extra_latency_ms', 'only_customer_ids_matching'];

/** An instance's customer id as text (a string feature arrives as text or bytes). */
function customerIdOf(instance: Readonly<Record<string, unknown>>): string {
  const value = instance.customer_id;
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  return typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean'
    ? String(value)
    : '';
}
