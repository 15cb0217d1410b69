import { PREDICT_CHUNK } from './check-context.js';
import { parsePredictions, type RankedList } from './predict-response.js';
import { describeFailure, type RevisionClient } from './revision-client.js';

/**
 * Predicts `instances` at the revision, `PREDICT_CHUNK` per request, and
 * returns one ranked list per instance in order, or the first problem (which
 * request, what went wrong).
 */
export async function predictInChunks(
  client: RevisionClient,
  instances: readonly unknown[],
): Promise<{ readonly lists: RankedList[] } | { readonly problem: string }> {
  const lists: RankedList[] = [];
  for (let start = 0; start < instances.length; start += PREDICT_CHUNK) {
    const chunk = instances.slice(start, start + PREDICT_CHUNK);
    const which = `POST ${client.modelUrl}:predict (instances ${start}–${start + chunk.length - 1})`;
    const result = await client.predict(chunk);
    if ('failure' in result || result.answer.status !== 200) {
      return { problem: `${which}: ${describeFailure(result)}` };
    }
    const parsed = parsePredictions(result.answer.body, chunk.length);
    if ('problem' in parsed) return { problem: `${which}: ${parsed.problem}` };
    lists.push(...parsed.lists);
  }
  return { lists };
}
