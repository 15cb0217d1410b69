/**
 * The predict answer, written by hand rather than with JSON.stringify: TF
 * Serving prints floats its own way (see float-format.ts) and non-finite
 * scores as bare `NaN`/`Infinity`, which JSON.stringify would turn into
 * `null`. Row requests get `{"predictions": [{…}, …]}`, one object per
 * instance; columnar requests get `{"outputs": {name: batch tensor}}`.
 */
import type { ProductId } from '@recdeploy/shared/ann';
import { formatFloat32 } from '../json/float-format.js';
import type { RequestFormat } from './predict-request.js';

/** The k best products for one instance, best first. */
export interface Prediction {
  readonly productIds: readonly ProductId[];
  /** float32 scores, descending, same length as productIds. */
  readonly scores: ArrayLike<number>;
}

/** The response body for a predict request in the given format. */
export function predictResponseBody(
  format: RequestFormat,
  predictions: readonly Prediction[],
): string {
  if (format === 'row') {
    const rows = predictions.map(
      (p) => `{"product_ids":${idList(p.productIds)},"scores":${scoreList(p.scores)}}`,
    );
    return `{"predictions":[${rows.join(',')}]}`;
  }
  const ids = predictions.map((p) => idList(p.productIds)).join(',');
  const scores = predictions.map((p) => scoreList(p.scores)).join(',');
  return `{"outputs":{"product_ids":[${ids}],"scores":[${scores}]}}`;
}

function idList(ids: readonly ProductId[]): string {
  let out = '[';
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (i > 0) out += ',';
    // Integer ids are DT_INT64 and print as integers; string ids as JSON strings.
    out += typeof id === 'string' ? JSON.stringify(id) : String(id);
  }
  return `${out}]`;
}

function scoreList(scores: ArrayLike<number>): string {
  let out = '[';
  for (let i = 0; i < scores.length; i++) {
    if (i > 0) out += ',';
    out += formatFloat32(scores[i]!);
  }
  return `${out}]`;
}
