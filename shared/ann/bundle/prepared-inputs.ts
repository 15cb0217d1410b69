/**
 * Query-model inputs after preprocessing: one typed column per manifest input,
 * in manifest order, `count` values each (one scalar per instance). Vocabulary
 * inputs are int32 indices, z-scored ones float32.
 */
import type { ManifestInput } from './manifest.js';
import { readValue, type Token, type ValueOptions } from './input-values.js';
import { preview } from './schema-errors.js';
import type { VocabularyLookup } from './vocabulary-lookup.js';

/** One preprocessed input: int32 indices or float32 values, one per instance. */
export type PreparedColumn =
  | { readonly name: string; readonly dtype: 'int32'; readonly values: Int32Array }
  | { readonly name: string; readonly dtype: 'float32'; readonly values: Float32Array };

/** A batch ready for the query encoder. */
export interface PreparedInputs {
  /** Number of instances (rows). */
  readonly count: number;
  /** One column per manifest input, in manifest order. */
  readonly columns: readonly PreparedColumn[];
}

/** Fills one column; `set` returns a TF Serving-style reason when the value is refused. */
export interface ColumnWriter {
  set(row: number, value: unknown): string | undefined;
  readonly column: PreparedColumn;
}

const INT32_MAX = 2 ** 31 - 1;

/** A writer applying `input`'s preprocessing (`lookup` for vocabulary inputs). */
export function columnWriter(
  input: ManifestInput,
  lookup: VocabularyLookup | undefined,
  count: number,
  options: ValueOptions,
): ColumnWriter {
  const p = input.preprocessing;
  if (p.kind === 'vocabulary') {
    const values = new Int32Array(count);
    return {
      column: { name: input.name, dtype: 'int32', values },
      set(row, raw) {
        const read = readValue(input, raw, options);
        if (!read.ok) return read.reason;
        const index = lookup?.lookup(read.value);
        if (index === undefined) {
          return `value ${describeToken(read.value)} is not in the vocabulary of "${input.name}" and the model has no OOV buckets`;
        }
        values[row] = index;
        return undefined;
      },
    };
  }
  if (p.kind === 'identity' && input.dtype === 'int64') {
    const values = new Int32Array(count);
    return {
      column: { name: input.name, dtype: 'int32', values },
      set(row, raw) {
        const read = readValue(input, raw, options);
        if (!read.ok) return read.reason;
        const n = Number(read.value);
        if (Math.abs(n) > INT32_MAX)
          return `value ${describeToken(read.value)} does not fit int32, the widest integer a TF.js model takes`;
        values[row] = n;
        return undefined;
      },
    };
  }
  const values = new Float32Array(count);
  // TFT computes in the input's float32: cast, subtract, divide, each rounded to float32.
  const mean = p.kind === 'z_score' ? Math.fround(p.mean) : 0;
  const std = p.kind === 'z_score' ? Math.fround(p.std) : 1;
  return {
    column: { name: input.name, dtype: 'float32', values },
    set(row, raw) {
      const read = readValue(input, raw, options);
      if (!read.ok) return read.reason;
      const x = Math.fround(Number(read.value));
      values[row] = p.kind === 'z_score' ? Math.fround(Math.fround(x - mean) / std) : x;
      return undefined;
    },
  };
}

/** A bounded rendering of a value for messages (requests can carry megabytes). */
function describeToken(value: Token | number | bigint): string {
  return value instanceof Uint8Array ? `<${value.length} bytes>` : preview(value);
}

/** Joins prepared batches (same manifest) into one, e.g. for micro-batching requests. */
export function concatPrepared(parts: readonly PreparedInputs[]): PreparedInputs {
  const first = parts[0];
  if (!first) throw new Error('concatPrepared needs at least one batch');
  const count = parts.reduce((n, part) => n + part.count, 0);
  const columns = first.columns.map((column, c): PreparedColumn => {
    const values = column.dtype === 'int32' ? new Int32Array(count) : new Float32Array(count);
    let offset = 0;
    for (const part of parts) {
      const source = part.columns[c];
      if (!source || source.name !== column.name || source.dtype !== column.dtype) {
        throw new Error(`concatPrepared: column ${c} differs between batches`);
      }
      values.set(source.values, offset);
      offset += part.count;
    }
    return { name: column.name, dtype: column.dtype, values } as PreparedColumn;
  });
  return { count, columns };
}
