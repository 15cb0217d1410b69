/**
 * The routing policy (DESIGN.md §1): which serving runtime a run's model gets,
 * and why. Pure: the caller looks at the bundle and passes what it found.
 *
 * - An explicit `deployment_config.runtime` wins (it must name a runtime we have).
 * - brute_force retrieval, ranking and multitask → native TF Serving, which
 *   serves the SavedModel as trained;
 * - scann and hnsw retrieval → services/ann-serving with an HNSW index;
 * - brute_force retrieval without a SavedModel (only the ann/ bundle) →
 *   ann-serving in exact mode: same answers as brute force, from the bundle.
 */
import { PermanentError } from '../errors.js';
import type { RunIdentity } from './run-document.js';

/** What the deploy step found in the artifact directory. */
export interface BundleFacts {
  /** `saved_model.pb` is present (the native TF Serving route can serve it). */
  readonly hasSavedModel: boolean;
  /** `ann/manifest.json` is present (ann-serving can serve it). */
  readonly hasAnnBundle: boolean;
}

/** The serving runtimes the routing policy chooses between. */
export type RuntimeName = 'tf-serving' | 'ann-serving';

export type ServingMode = 'ann' | 'exact';

export interface RuntimeChoice {
  readonly runtime: RuntimeName;
  /** ann-serving's SERVING_MODE; undefined for TF Serving. */
  readonly mode?: ServingMode;
  /** One sentence for the run document and the dashboard. */
  readonly reason: string;
}

/** Names accepted in `deployment_config.runtime`, and what each means. */
const EXPLICIT: Readonly<Record<string, { runtime: RuntimeName; mode?: ServingMode }>> = {
  'tf-serving': { runtime: 'tf-serving' },
  tf_serving: { runtime: 'tf-serving' },
  'ann-serving': { runtime: 'ann-serving', mode: 'ann' },
  ann_serving: { runtime: 'ann-serving', mode: 'ann' },
  'ann-serving-exact': { runtime: 'ann-serving', mode: 'exact' },
};

export const EXPLICIT_RUNTIME_NAMES: readonly string[] = Object.keys(EXPLICIT);

type RoutedRun = Pick<RunIdentity, 'modelType' | 'retrievalAlgorithm' | 'deploymentConfig'>;

/**
 * Chooses the runtime.
 * @throws PermanentError `ROUTING.NO_RUNTIME` when the bundle lacks what the
 *   chosen runtime needs (no SavedModel for TF Serving, no ann/ for ann-serving)
 *   or the requested runtime is unknown.
 */
export function chooseRuntime(run: RoutedRun, facts: BundleFacts): RuntimeChoice {
  const requested = run.deploymentConfig?.runtime;
  if (requested !== undefined) return explicitChoice(requested, facts);

  const what =
    run.modelType === 'retrieval' ? `${run.retrievalAlgorithm} retrieval` : `${run.modelType}`;
  if (run.modelType === 'retrieval' && run.retrievalAlgorithm !== 'brute_force') {
    requireAnn(facts, what);
    return {
      runtime: 'ann-serving',
      mode: 'ann',
      reason: `${what} model: approximate nearest neighbours on ann-serving (HNSW index)`,
    };
  }
  if (facts.hasSavedModel) {
    return {
      runtime: 'tf-serving',
      reason: `${what} model with a SavedModel: served natively by TensorFlow Serving`,
    };
  }
  if (run.modelType === 'retrieval' && facts.hasAnnBundle) {
    return {
      runtime: 'ann-serving',
      mode: 'exact',
      reason: `${what} model without a SavedModel: exact search on ann-serving from the ann/ bundle`,
    };
  }
  throw noRuntime(`${what} model needs saved_model.pb for TensorFlow Serving, and there is none`);
}

function explicitChoice(requested: string, facts: BundleFacts): RuntimeChoice {
  const choice = EXPLICIT[requested];
  if (choice === undefined) {
    throw noRuntime(
      `deployment_config.runtime "${requested}" is not a known runtime (known: ${EXPLICIT_RUNTIME_NAMES.join(', ')})`,
    );
  }
  const why = `deployment_config.runtime asks for ${requested}`;
  if (choice.runtime === 'tf-serving') {
    if (!facts.hasSavedModel) throw noRuntime(`${why}, but the artifact has no saved_model.pb`);
    return { runtime: 'tf-serving', reason: why };
  }
  requireAnn(facts, why);
  return { runtime: 'ann-serving', mode: choice.mode ?? 'ann', reason: why };
}

function requireAnn(facts: BundleFacts, what: string): void {
  if (!facts.hasAnnBundle) {
    throw noRuntime(`${what} needs the ann/ bundle (ann/manifest.json), and the artifact has none`);
  }
}

function noRuntime(message: string): PermanentError {
  return new PermanentError('ROUTING.NO_RUNTIME', message);
}
