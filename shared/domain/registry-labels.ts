/**
 * The labels a registered model version carries, sanitised to Vertex AI's and
 * Google's label rules (reference/gcp-facts.md §C): at most 64 labels; keys
 * 1–63 characters starting with a lowercase letter; keys and values only
 * lowercase letters, digits, `_` and `-`; values at most 63 characters. The
 * registry finds an endpoint's model and an earlier upload of a run by these
 * labels, so the same input must always give the same labels.
 */
import { createHash } from 'node:crypto';

/** Longest key or value kept (Google allows 63 for keys, 64 for Vertex values: 63 fits both). */
export const MAX_LABEL_CHARS = 63;
/** Most labels one resource may carry. */
export const MAX_LABELS = 64;
/** Prefix given to a key that does not start with a lowercase letter (`100_recall` → `k_100_recall`). */
export const LABEL_KEY_PREFIX = 'k_';

const HASH_SUFFIX_CHARS = 9; // '-' + 8 hex characters

/** What registryLabels needs to know about a run. */
export interface RegistryLabelInput {
  /**
   * The run id. Not a label of its own: it is `{model_endpoint_id}-{training_run_id}`,
   * which the two id labels already carry within the 63-character limit.
   */
  readonly runId: string;
  readonly trainingRunId: string;
  readonly modelEndpointId: string;
  readonly modelType: string;
  readonly retrievalAlgorithm: string;
  readonly isBlessed: boolean;
  readonly runNumber: number;
  readonly metrics: Readonly<Record<string, number>>;
  /** The serving runtime chosen for the run (e.g. `tf-serving`, `ann-serving`). */
  readonly runtime: string;
}

/** The labels, and the metrics that got no label. */
export interface RegistryLabelPlan {
  readonly labels: Record<string, string>;
  /**
   * Metric names left out, in name order: those past the 64-label limit, and
   * those whose sanitised key equals a label already taken: a fixed label such
   * as `model_type`, or an earlier metric in name order (`Recall@100` and
   * `recall_100` both become `recall_100`; the first in code-unit order keeps it).
   */
  readonly droppedMetrics: readonly string[];
}

/**
 * A label value: lowercased, every character other than `a-z`, `0-9`, `_`, `-`
 * replaced by `_`; longer than 63 characters → the first 54 characters, `-`,
 * and 8 hex characters of the SHA-256 of the original text, so two long ids
 * that share a prefix still get different values.
 */
export function sanitizeLabelValue(original: string): string {
  return fitLength(replaceForbidden(original), original);
}

/**
 * A label key: sanitised like a value, and prefixed with `k_` when it does not
 * start with a lowercase letter (empty included), since keys must.
 */
export function sanitizeLabelKey(original: string): string {
  const replaced = replaceForbidden(original);
  const keyed = /^[a-z]/.test(replaced) ? replaced : `${LABEL_KEY_PREFIX}${replaced}`;
  return fitLength(keyed, original);
}

/**
 * A metric as a label value: rounded to 4 decimals, written without trailing
 * zeros, `.` → `_` and a leading `m` for negatives (labels allow neither `.`
 * nor a meaningful `-`): 0.97312 → `0_9731`, -0.5 → `m0_5`, 100 → `100`,
 * 1e21 → `1e21`. NaN and ±Infinity (not valid JSON, so not expected) become
 * `nan`, `inf` and `minf`.
 */
export function encodeMetricValue(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : 'minf';
  const rounded = Number(value.toFixed(4));
  // -0.00001 rounds to -0, which is not negative.
  const sign = rounded < 0 ? 'm' : '';
  const digits = String(Math.abs(rounded)).replace('.', '_').replace('+', '');
  return sanitizeLabelValue(`${sign}${digits}`);
}

/** The labels of a registered version, and which metrics got none. */
export function planRegistryLabels(input: RegistryLabelInput): RegistryLabelPlan {
  const labels: Record<string, string> = {
    training_run_id: sanitizeLabelValue(input.trainingRunId),
    model_endpoint_id: sanitizeLabelValue(input.modelEndpointId),
    model_type: sanitizeLabelValue(input.modelType),
    retrieval_algorithm: sanitizeLabelValue(input.retrievalAlgorithm),
    is_blessed: input.isBlessed ? 'true' : 'false',
    run_number: sanitizeLabelValue(String(input.runNumber)),
    runtime: sanitizeLabelValue(input.runtime),
    managed_by: 'recdeploy',
  };
  const droppedMetrics: string[] = [];
  // Name order (code units, not locale), so the same metrics always keep the same labels.
  const names = Object.keys(input.metrics).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const key = sanitizeLabelKey(name);
    if (key in labels || Object.keys(labels).length >= MAX_LABELS) {
      droppedMetrics.push(name);
      continue;
    }
    labels[key] = encodeMetricValue(input.metrics[name] ?? Number.NaN);
  }
  return { labels, droppedMetrics };
}

/** The labels of a registered version (see planRegistryLabels for which metrics are left out). */
export function registryLabels(input: RegistryLabelInput): Record<string, string> {
  return planRegistryLabels(input).labels;
}

/**
 * A ListModels / ListModelVersions filter matching one label, e.g.
 * `labels.training_run_id="run-42"`. Pass sanitised keys and values: they
 * contain no quote or backslash, so no escaping is needed.
 */
export function labelFilter(key: string, value: string): string {
  return `labels.${key}="${value}"`;
}

function replaceForbidden(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9_-]/gu, '_');
}

function fitLength(sanitised: string, original: string): string {
  if (sanitised.length <= MAX_LABEL_CHARS) return sanitised;
  const hash = createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 8);
  return `${sanitised.slice(0, MAX_LABEL_CHARS - HASH_SUFFIX_CHARS)}-${hash}`;
}
