/**
 * Evaluation metrics of a TFX-pushed model. The Evaluator's numbers are not
 * in the pipeline job's artifact metadata (../reference/vertex-pipeline-outputs.md §4),
 * so trainers ship a small `assets.extra/metrics.json` inside the serving
 * model ({"recall_at_100": 0.97, …}), which the Pusher copies to the pushed
 * directory. Missing or unreadable → no metrics (they are labels, not gates).
 */
import type { ArtifactStore } from '../../ports/artifact-store.port.js';

export const METRICS_FILE = 'assets.extra/metrics.json';

export async function readPushedMetrics(
  artifacts: ArtifactStore,
  pushedDestination: string,
): Promise<Record<string, number>> {
  let text: string;
  try {
    text = await artifacts.readText(
      `${pushedDestination.replace(/\/+$/, '')}/${METRICS_FILE}`,
      64 * 1024,
    );
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ARTIFACT.NOT_FOUND' || code === 'ARTIFACT.TOO_LARGE') return {};
    throw error;
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter(
        (entry): entry is [string, number] =>
          typeof entry[1] === 'number' && Number.isFinite(entry[1]),
      ),
    );
  } catch {
    return {};
  }
}
