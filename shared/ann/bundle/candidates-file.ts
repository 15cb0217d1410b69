/**
 * `candidates.f32`: N × D little-endian float32, row-major, no header.
 * Read straight into a Float32Array (no intermediate Buffer: at 1M × 64 that
 * is 256 MB we would otherwise hold twice), converted on big-endian hosts.
 */
import { open, writeFile } from 'node:fs/promises';
import os from 'node:os';
import type { CandidateMatrix } from '../types.js';
import { bundleError } from './bundle-files.js';

const LITTLE_ENDIAN = os.endianness() === 'LE';

/** Reads and checks the matrix: size N × D × 4 and every value finite. */
export async function readCandidates(
  file: string,
  count: number,
  dim: number,
): Promise<CandidateMatrix> {
  const expected = count * dim * 4;
  const handle = await open(file, 'r').catch((error: unknown) => {
    throw bundleError(file, 'cannot be opened (missing?)', error);
  });
  try {
    const { size } = await handle.stat();
    if (size !== expected) {
      const rows = size / (dim * 4);
      const hint = Number.isInteger(rows)
        ? `it holds ${rows} rows`
        : 'not a whole number of rows (truncated?)';
      throw bundleError(
        file,
        `${size} bytes, expected candidate_count × embedding_dim × 4 = ${count} × ${dim} × 4 = ${expected}; ${hint}`,
      );
    }
    const vectors = new Float32Array(count * dim);
    const bytes = new Uint8Array(vectors.buffer);
    for (let offset = 0; offset < expected;) {
      const { bytesRead } = await handle.read(
        bytes,
        offset,
        Math.min(expected - offset, 1 << 26),
        offset,
      );
      if (bytesRead === 0) throw bundleError(file, `ended after ${offset} of ${expected} bytes`);
      offset += bytesRead;
    }
    if (!LITTLE_ENDIAN) swapBytes(bytes);
    const bad = firstNonFinite(vectors);
    if (bad >= 0) {
      throw bundleError(
        file,
        `row ${Math.floor(bad / dim)} column ${bad % dim} is ${vectors[bad]} (values must be finite)`,
      );
    }
    return { vectors, count, dim };
  } finally {
    await handle.close();
  }
}

/** Writes the matrix little-endian. */
export async function writeCandidates(file: string, matrix: CandidateMatrix): Promise<void> {
  if (matrix.vectors.length !== matrix.count * matrix.dim) {
    throw new Error(
      `candidate matrix holds ${matrix.vectors.length} values, expected ${matrix.count} × ${matrix.dim}`,
    );
  }
  const bytes = new Uint8Array(
    matrix.vectors.buffer,
    matrix.vectors.byteOffset,
    matrix.vectors.byteLength,
  );
  await writeFile(file, LITTLE_ENDIAN ? bytes : swapBytes(Uint8Array.from(bytes)));
}

function swapBytes(bytes: Uint8Array): Uint8Array {
  for (let i = 0; i < bytes.length; i += 4) {
    [bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]] = [
      bytes[i + 3]!,
      bytes[i + 2]!,
      bytes[i + 1]!,
      bytes[i]!,
    ];
  }
  return bytes;
}

/** Index of the first NaN or ±Infinity, or -1 (a plain loop: 64M values at 1M × 64). */
function firstNonFinite(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    // v - v is NaN exactly for NaN and ±Infinity.
    if (v - v !== 0) return i;
  }
  return -1;
}
