/**
 * Generated B2B purchase data with planted structure, so that a model that
 * learns something measurably beats random retrieval:
 * - each segment has two core categories and each (segment, city) pair one
 *   more: most purchases fall in these three;
 * - revenue sets a customer's price tier (budget, standard, premium);
 * - each customer reorders a small basket of regular products and has a
 *   personal favourite category;
 * - product popularity is long-tailed, as in real catalogues.
 */
import { CATEGORIES, CITIES, SEGMENTS, TIERS } from './b2b-names.js';
import { SeededRandom, WeightedChoice } from './random.js';

export { CATEGORIES, CITIES, SEGMENTS, TIERS } from './b2b-names.js';

/** Median yearly revenue by segment (EUR); lognormal around it. */
const REVENUE_MEDIAN = [60_000, 150_000, 2_000_000, 900_000, 400_000];

/** Products by row: category, price tier and popularity weight. */
export interface Catalogue {
  readonly count: number;
  readonly category: Int32Array;
  readonly tier: Int32Array;
  readonly popularity: Float64Array;
}

/** Customers by row: id, city, segment (indices into the name lists) and yearly revenue. */
export interface Customers {
  readonly count: number;
  readonly ids: string[];
  readonly city: Int32Array;
  readonly segment: Int32Array;
  readonly revenue: Float64Array;
}

/** Purchases as (customer row, product row) pairs. */
export interface Interactions {
  readonly customer: Int32Array;
  readonly product: Int32Array;
}

/** `count` products: long-tailed category sizes, uniform tiers, lognormal popularity. */
export function generateCatalogue(count: number, random: SeededRandom): Catalogue {
  const categoryChoice = new WeightedChoice(CATEGORIES.map((_, c) => 1 / (c + 1) ** 0.5));
  const category = new Int32Array(count);
  const tier = new Int32Array(count);
  const popularity = new Float64Array(count);
  for (let p = 0; p < count; p++) {
    category[p] = p < CATEGORIES.length ? p : categoryChoice.pick(random); // every category exists
    tier[p] = random.int(TIERS.length);
    popularity[p] = Math.exp(1.2 * random.normal());
  }
  return { count, category, tier, popularity };
}

/** `count` customers with ids C-000001…, a city, a segment and a yearly revenue. */
export function generateCustomers(count: number, random: SeededRandom): Customers {
  const width = Math.max(6, String(count).length);
  const ids = Array.from({ length: count }, (_, i) => `C-${String(i + 1).padStart(width, '0')}`);
  const city = new Int32Array(count);
  const segment = new Int32Array(count);
  const revenue = new Float64Array(count);
  const cityChoice = new WeightedChoice(CITIES.map((_, c) => 1 / (c + 2)));
  for (let i = 0; i < count; i++) {
    city[i] = cityChoice.pick(random);
    segment[i] = random.int(SEGMENTS.length);
    revenue[i] = Math.round(REVENUE_MEDIAN[segment[i]!]! * Math.exp(0.9 * random.normal()));
  }
  return { count, ids, city, segment, revenue };
}

/** Purchases of `customers` over `catalogue` following the planted preferences (8–19 per customer). */
export function generateInteractions(
  customers: Customers,
  catalogue: Catalogue,
  random: SeededRandom,
): Interactions {
  const taste = plantTaste(random);
  const pools = productPools(catalogue);
  const tierOf = revenueTiers(customers.revenue);
  const customer: number[] = [];
  const product: number[] = [];
  for (let c = 0; c < customers.count; c++) {
    const preferred = taste(customers.segment[c]!, customers.city[c]!);
    const favourite = random.int(CATEGORIES.length);
    const pickOne = (): number => {
      const roll = random.next();
      const cat =
        roll < 0.6
          ? preferred[random.int(preferred.length)]!
          : roll < 0.8
            ? favourite
            : random.int(CATEGORIES.length);
      const tier = random.next() < 0.75 ? tierOf[c]! : random.int(TIERS.length);
      return pools.pick(cat, tier, random);
    };
    const basket = Array.from({ length: 5 }, pickOne);
    const purchases = 8 + Math.round(6 * (tierOf[c]! / 2)) + random.int(6);
    for (let n = 0; n < purchases; n++) {
      customer.push(c);
      product.push(random.next() < 0.35 ? basket[random.int(basket.length)]! : pickOne());
    }
  }
  return { customer: Int32Array.from(customer), product: Int32Array.from(product) };
}

/** (segment, city) → its three preferred categories: two per segment plus one per pair. */
function plantTaste(random: SeededRandom): (segment: number, city: number) => number[] {
  const core = SEGMENTS.map(() => [random.int(CATEGORIES.length), random.int(CATEGORIES.length)]);
  const extra = SEGMENTS.map(() => CITIES.map(() => random.int(CATEGORIES.length)));
  return (segment, city) => [...core[segment]!, extra[segment]![city]!];
}

/** Revenue terciles → tier 0 (budget), 1 (standard), 2 (premium). */
function revenueTiers(revenue: Float64Array): Int32Array {
  const sorted = Float64Array.from(revenue).sort();
  const low = sorted[Math.floor(sorted.length / 3)] ?? 0;
  const high = sorted[Math.floor((2 * sorted.length) / 3)] ?? 0;
  return Int32Array.from(revenue, (r) => (r < low ? 0 : r < high ? 1 : 2));
}

/** Popularity-weighted product choice within (category, tier), falling back to the category. */
function productPools(catalogue: Catalogue) {
  const members = new Map<number, number[]>();
  for (let p = 0; p < catalogue.count; p++) {
    for (const key of [
      catalogue.category[p]! * 4 + catalogue.tier[p]!,
      catalogue.category[p]! * 4 + 3,
    ]) {
      const list = members.get(key) ?? [];
      list.push(p);
      members.set(key, list);
    }
  }
  const choices = new Map<number, { rows: number[]; choice: WeightedChoice }>();
  for (const [key, rows] of members) {
    choices.set(key, {
      rows,
      choice: new WeightedChoice(rows.map((p) => catalogue.popularity[p]!)),
    });
  }
  return {
    pick(category: number, tier: number, random: SeededRandom): number {
      const pool = choices.get(category * 4 + tier) ?? choices.get(category * 4 + 3);
      if (!pool) return random.int(catalogue.count);
      return pool.rows[pool.choice.pick(random)]!;
    },
  };
}
