import type { SearchHit } from '../types.js';

/**
 * A bounded selection of the k best (row, score) pairs: a binary min-heap whose
 * root is the worst pair kept, so each candidate costs one comparison unless
 * it beats the root. Order is score descending, then row ascending, which
 * makes results deterministic under ties (the lowest row wins).
 */
export class TopK {
  private readonly rows: Int32Array;
  private readonly scores: Float64Array;
  private size = 0;

  /** @param capacity - k; at least 1. */
  constructor(readonly capacity: number) {
    this.rows = new Int32Array(capacity);
    this.scores = new Float64Array(capacity);
  }

  /** Number of pairs held (≤ capacity). */
  get length(): number {
    return this.size;
  }

  /**
   * The score a new pair must beat to enter once full, or -Infinity before.
   * Scans that visit rows in ascending order can skip `score <= threshold`
   * without calling `push`: an equal score from a later row never wins a tie.
   */
  get threshold(): number {
    return this.size < this.capacity ? -Infinity : (this.scores[0] as number);
  }

  /** Empties the selection so one instance serves many queries. */
  clear(): void {
    this.size = 0;
  }

  /** Offers a pair; keeps it if it is among the best `capacity` so far. */
  push(row: number, score: number): void {
    if (this.size < this.capacity) {
      this.siftUp(this.size++, row, score);
    } else if (this.worse(this.scores[0] as number, this.rows[0] as number, score, row)) {
      this.siftDown(row, score);
    }
  }

  /** The kept pairs, best first. Does not clear. */
  toHit(): SearchHit {
    const order = Array.from({ length: this.size }, (_, i) => i);
    order.sort((a, b) => {
      const diff = (this.scores[b] as number) - (this.scores[a] as number);
      return diff !== 0 ? diff : (this.rows[a] as number) - (this.rows[b] as number);
    });
    const rows = new Int32Array(this.size);
    const scores = new Float32Array(this.size);
    order.forEach((from, to) => {
      rows[to] = this.rows[from] as number;
      scores[to] = this.scores[from] as number;
    });
    return { rows, scores };
  }

  /** True when (s1, r1) ranks below (s2, r2). */
  private worse(s1: number, r1: number, s2: number, r2: number): boolean {
    return s1 < s2 || (s1 === s2 && r1 > r2);
  }

  private siftUp(at: number, row: number, score: number): void {
    let i = at;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const ps = this.scores[parent] as number;
      const pr = this.rows[parent] as number;
      if (!this.worse(score, row, ps, pr)) break;
      this.scores[i] = ps;
      this.rows[i] = pr;
      i = parent;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }

  /** Replaces the root with (row, score) and restores the heap. */
  private siftDown(row: number, score: number): void {
    const n = this.size;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      const right = child + 1;
      if (
        right < n &&
        this.worse(
          this.scores[right] as number,
          this.rows[right] as number,
          this.scores[child] as number,
          this.rows[child] as number,
        )
      ) {
        child = right;
      }
      const cs = this.scores[child] as number;
      const cr = this.rows[child] as number;
      if (!this.worse(cs, cr, score, row)) break;
      this.scores[i] = cs;
      this.rows[i] = cr;
      i = child;
    }
    this.scores[i] = score;
    this.rows[i] = row;
  }
}
