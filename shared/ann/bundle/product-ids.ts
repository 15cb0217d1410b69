/**
 * `product_ids.json`: the N original product ids, row i naming row i of
 * candidates.f32. `int64` ids are JS numbers and must be safe integers
 * (|id| ≤ 2^53 − 1): JSON.parse would silently round a larger one to a
 * different id, so such a bundle is refused rather than served wrong; a
 * trainer with larger ids should declare them as strings. Ids must be unique,
 * or a prediction could not say which product it means.
 */
import type { ProductId } from '../types.js';
import { preview } from './schema-errors.js';

/** Checks parsed ids; returns them or a problem. */
export function checkProductIds(
  value: unknown,
  count: number,
  dtype: 'string' | 'int64',
): { ids: ProductId[] } | { problem: string } {
  if (!Array.isArray(value))
    return { problem: `expected a JSON array of ${count} ids, got ${preview(value)}` };
  if (value.length !== count) {
    return {
      problem: `holds ${value.length} ids, expected candidate_count = ${count} (one per row of candidates.f32)`,
    };
  }
  const first = new Map<ProductId, number>();
  for (const [i, id] of (value as unknown[]).entries()) {
    const problem = dtype === 'string' ? stringProblem(id) : int64Problem(id);
    if (problem) return { problem: `id at index ${i}: ${problem}` };
    const seen = first.get(id as ProductId);
    if (seen !== undefined)
      return { problem: `id ${preview(id)} appears at indices ${seen} and ${i}` };
    first.set(id as ProductId, i);
  }
  return { ids: value as ProductId[] };
}

function stringProblem(id: unknown): string | undefined {
  return typeof id === 'string'
    ? undefined
    : `expected a string (product_id_dtype "string"), got ${preview(id)}`;
}

function int64Problem(id: unknown): string | undefined {
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    return `expected an integer (product_id_dtype "int64"), got ${preview(id)}`;
  }
  if (!Number.isSafeInteger(id)) {
    return `${id} is beyond ±(2^53 − 1) and cannot be read exactly; write such ids as strings`;
  }
  return undefined;
}
