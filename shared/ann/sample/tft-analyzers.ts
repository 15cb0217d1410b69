/**
 * The two TensorFlow Transform analyzers the sample model needs, computed as
 * TFT computes them over the training data, so the bundle's vocabularies and
 * z-score statistics are what a TFX Transform component would have written.
 */

/**
 * `tft.vocabulary`: unique values by decreasing frequency, ties in reverse
 * lexicographical order of their UTF-8 bytes (TFT's documented order:
 * [('a', 5), ('c', 3), ('b', 3)]).
 */
export function tftVocabulary(values: Iterable<string>): string[] {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts.entries()]
    .sort(([a, ca], [b, cb]) => cb - ca || Buffer.compare(Buffer.from(b), Buffer.from(a)))
    .map(([token]) => token);
}

/**
 * `tft.mean` and the population standard deviation behind `tft.scale_to_z_score`
 * (TFT divides by sqrt(var) with var = E[(x - mean)²]). A constant column has
 * std 0, where TFT returns x - mean; std 1 writes that same result with a
 * manifest that stays valid (std > 0).
 */
export function tftMeanAndStd(values: ArrayLike<number>): { mean: number; std: number } {
  if (values.length === 0) throw new Error('z-score statistics need at least one value');
  let sum = 0;
  for (let i = 0; i < values.length; i++) sum += values[i]!;
  const mean = sum / values.length;
  let squares = 0;
  for (let i = 0; i < values.length; i++) squares += (values[i]! - mean) ** 2;
  const std = Math.sqrt(squares / values.length);
  return { mean, std: std > 0 ? std : 1 };
}
