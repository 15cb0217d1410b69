/**
 * Reservoir sampling, Algorithm R (Vitter, "Random Sampling with a
 * Reservoir", ACM TOMS 11(1), 1985): after `seen` offers, every item offered
 * so far is held with the same probability min(1, capacity / seen), in
 * memory bounded by `capacity` items whatever the stream's length.
 */

/** Uniform in [0, 1); Math.random in production, seeded in tests. */
export type RandomSource = () => number;

export class Reservoir<T> {
  private held: T[] = [];
  private offered = 0;
  private changes = 0;

  constructor(
    readonly capacity: number,
    private readonly random: RandomSource = Math.random,
  ) {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`a reservoir's capacity is a whole number ≥ 0, not ${capacity}`);
    }
  }

  /** Items offered so far (restored ones included). */
  get seen(): number {
    return this.offered;
  }

  /** Grows whenever the items or the count change: a writer compares it with what it last wrote. */
  get version(): number {
    return this.changes;
  }

  get size(): number {
    return this.held.length;
  }

  /** The held items (a copy). */
  items(): T[] {
    return [...this.held];
  }

  /**
   * Counts one more item and keeps it when chosen. `make` runs only then, so
   * the work of shaping an item is spent on the few that are kept.
   */
  offer(make: () => T): void {
    this.offered++;
    this.changes++;
    let slot: number;
    if (this.held.length < this.capacity) {
      slot = this.held.length;
    } else {
      slot = Math.floor(this.random() * this.offered);
      if (slot >= this.capacity) return;
    }
    this.held[slot] = make();
  }

  /**
   * Continues from a sample written earlier (the same revision restarted):
   * its items and its count. With a smaller capacity now, a uniformly chosen
   * subset is kept (a uniform subset of a uniform sample is one too).
   */
  restore(items: readonly T[], seen: number): void {
    this.held = this.choose(items, this.capacity);
    this.offered = Math.max(seen, this.held.length);
    this.changes++;
  }

  /** `count` of `items` chosen uniformly (a partial Fisher–Yates shuffle). */
  private choose(items: readonly T[], count: number): T[] {
    const pool = [...items];
    if (pool.length <= count) return pool;
    for (let i = 0; i < count; i++) {
      const j = i + Math.floor(this.random() * (pool.length - i));
      [pool[i], pool[j]] = [pool[j]!, pool[i]!];
    }
    return pool.slice(0, count);
  }
}
