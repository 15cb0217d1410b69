/**
 * Are the ids a revision returns the bundle's original product ids? The
 * classic deployment bug this catches: the serving side returns candidate
 * row numbers or vocabulary indices (integers 0..N-1) instead of mapping them
 * through product_ids.json. Comparison is type-aware, as clients see it: for
 * `int64` ids the string "1001" is not the product 1001, and for `string`
 * ids the number 17 is not the product "17".
 */
import type { ProductId } from '../ann/types.js';
import { preview } from './format.js';

/** The bundle's id set, built once per verification. */
export interface ProductIdCatalogue {
  readonly dtype: 'string' | 'int64';
  readonly ids: ReadonlySet<ProductId>;
  /** N, the catalogue size (row indices would be 0..N-1). */
  readonly count: number;
  /** A few ids, for messages. */
  readonly sample: readonly ProductId[];
}

export function productIdCatalogue(
  productIds: readonly ProductId[],
  dtype: 'string' | 'int64',
): ProductIdCatalogue {
  return {
    dtype,
    ids: new Set(productIds),
    count: productIds.length,
    sample: productIds.slice(0, 3),
  };
}

/** What one ranked list's ids are; everything but `original` is a failure. */
export type IdVerdict =
  | { readonly kind: 'original' }
  | {
      readonly kind: 'row_indices';
      readonly unknownCount: number;
      readonly first: readonly unknown[];
    }
  | { readonly kind: 'not_an_id'; readonly position: number; readonly value: unknown }
  | { readonly kind: 'wrong_type'; readonly position: number; readonly id: ProductId }
  | { readonly kind: 'unknown'; readonly position: number; readonly id: ProductId }
  | {
      readonly kind: 'duplicate';
      readonly position: number;
      readonly id: ProductId;
      readonly first: number;
    };

/**
 * Classifies `ids`. Row indices are recognised as a whole (every id an
 * integer, or an integer string, in [0, N) and at least one of them not a
 * product id), so the message names the cause instead of a first unknown id;
 * a bundle whose own ids are 0..N-1 cannot tell them apart and needs not to.
 */
export function classifyIds(ids: readonly unknown[], catalogue: ProductIdCatalogue): IdVerdict {
  const unknown = ids.filter((id) => !catalogue.ids.has(id as ProductId));
  if (unknown.length > 0 && ids.every((id) => isRowIndex(id, catalogue.count))) {
    return { kind: 'row_indices', unknownCount: unknown.length, first: ids.slice(0, 3) };
  }
  const seen = new Map<ProductId, number>();
  for (const [position, value] of ids.entries()) {
    if (typeof value !== 'string' && typeof value !== 'number') {
      return { kind: 'not_an_id', position, value };
    }
    if (!catalogue.ids.has(value)) {
      return otherTypeIsKnown(value, catalogue)
        ? { kind: 'wrong_type', position, id: value }
        : { kind: 'unknown', position, id: value };
    }
    const first = seen.get(value);
    if (first !== undefined) return { kind: 'duplicate', position, id: value, first };
    seen.set(value, position);
  }
  return { kind: 'original' };
}

/** A one-line explanation of a failing verdict (empty for `original`). */
export function describeIdVerdict(verdict: IdVerdict, catalogue: ProductIdCatalogue): string {
  const expected = catalogue.dtype === 'string' ? 'string' : 'integer';
  switch (verdict.kind) {
    case 'original':
      return '';
    case 'row_indices':
      return (
        `product ids look like row or vocabulary indices, not original product ids: all are ` +
        `integers in [0, ${catalogue.count}) (${verdict.first.map((id) => preview(id)).join(', ')}, …) ` +
        `and ${verdict.unknownCount} are not in product_ids.json, whose ids look like ` +
        `${catalogue.sample.map((id) => preview(id)).join(', ')}; the server must map result rows ` +
        `through product_ids.json`
      );
    case 'not_an_id':
      return `position ${verdict.position} holds ${preview(verdict.value)}, not ${expected === 'string' ? 'a string' : 'an integer'} product id`;
    case 'wrong_type':
      return (
        `product id ${preview(verdict.id)} at position ${verdict.position} is a ${typeof verdict.id}, ` +
        `but product_id_dtype is ${catalogue.dtype}: ids must keep their original type ` +
        `(the ${expected} ${preview(convert(verdict.id))} is in product_ids.json)`
      );
    case 'unknown':
      return (
        `product id ${preview(verdict.id)} at position ${verdict.position} is not in ` +
        `product_ids.json (${catalogue.count} ids such as ` +
        `${catalogue.sample.map((id) => preview(id)).join(', ')})`
      );
    case 'duplicate':
      return `product id ${preview(verdict.id)} appears twice, at positions ${verdict.first} and ${verdict.position}`;
  }
}

function isRowIndex(id: unknown, count: number): boolean {
  const value =
    typeof id === 'number'
      ? id
      : typeof id === 'string' && /^(0|[1-9]\d*)$/.test(id)
        ? Number(id)
        : NaN;
  return Number.isInteger(value) && value >= 0 && value < count;
}

function otherTypeIsKnown(id: ProductId, catalogue: ProductIdCatalogue): boolean {
  const other = convert(id);
  return other !== undefined && catalogue.ids.has(other);
}

/** The same id in the other type: 1001 ↔ "1001". */
function convert(id: ProductId): ProductId | undefined {
  if (typeof id === 'number') return String(id);
  return /^-?(0|[1-9]\d*)$/.test(id) ? Number(id) : undefined;
}
