/**
 * Vocabulary lookup with out-of-vocabulary buckets, exactly as TensorFlow
 * Transform applies `compute_and_apply_vocabulary` (a `StaticVocabularyTable`
 * over the vocabulary file): a known token maps to its line number; an unknown
 * one to `vocab_size + Fingerprint64(token) mod num_oov_buckets`, where
 * Fingerprint64 is FarmHash's (TF's `string_to_hash_bucket_fast`) and an int64
 * key is hashed as its decimal text (TF's `as_string`). Without OOV buckets an
 * unknown token has no index (TFT's default -1, which a model cannot embed).
 */
import { fingerprint64 } from './fingerprint64.js';
import type { Token } from './input-values.js';

/** Token → index for one vocabulary input (see the module comment for the OOV rule). */
export class VocabularyLookup {
  private readonly index: Map<string, number>;
  private readonly buckets: bigint;

  constructor(
    readonly tokens: readonly string[],
    readonly numOovBuckets: number,
  ) {
    this.index = new Map(tokens.map((token, i) => [token, i]));
    this.buckets = BigInt(numOovBuckets);
  }

  /** Rows of the embedding table the model needs: vocabulary plus OOV buckets. */
  get size(): number {
    return this.tokens.length + this.numOovBuckets;
  }

  /** The index of `token`, or undefined when it is unknown and there are no OOV buckets. */
  lookup(token: Token | number | bigint): number | undefined {
    const key = typeof token === 'number' || typeof token === 'bigint' ? token.toString() : token;
    if (typeof key === 'string') {
      const known = this.index.get(key);
      if (known !== undefined) return known;
    }
    if (this.numOovBuckets === 0) return undefined;
    return this.tokens.length + Number(fingerprint64(key) % this.buckets);
  }
}
