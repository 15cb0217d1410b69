/**
 * The sample's data set: catalogue, customers and purchases split into
 * training and held-out rows, each purchase also as the instance a client
 * would send for that customer.
 */
import {
  CITIES,
  SEGMENTS,
  generateCatalogue,
  generateCustomers,
  generateInteractions,
  type Catalogue,
  type Customers,
  type Interactions,
} from './b2b-data.js';
import { SeededRandom } from './random.js';
import { heldOutSplit, subCatalogue } from './sample-helpers.js';

/** Catalogues larger than this train on their first `trainedWhenLarge` products only. */
export const LARGE_CATALOGUE = 20_000;

/** The generated data set of one sample-model run. */
export interface SampleData {
  readonly catalogue: Catalogue;
  /** The products the model trains on (the whole catalogue unless it is large). */
  readonly trained: Catalogue;
  readonly customers: Customers;
  readonly train: Interactions;
  readonly test: Interactions;
  readonly trainRows: Record<string, unknown>[];
  readonly testRows: Record<string, unknown>[];
}

/** Sizes and the random source of the data set. */
export interface SampleDataOptions {
  readonly products: number;
  readonly trainedWhenLarge: number;
  /** Default 1.5 per trained product, between 300 and 3,000. */
  readonly customers?: number;
  readonly random: SeededRandom;
}

/** Generates the data set; 10% of purchases are held out. */
export function generateSampleData(options: SampleDataOptions): SampleData {
  const { random } = options;
  const catalogue = generateCatalogue(options.products, random.fork());
  const trained = subCatalogue(
    catalogue,
    options.products > LARGE_CATALOGUE ? options.trainedWhenLarge : options.products,
  );
  const customerCount =
    options.customers ?? Math.min(3000, Math.max(300, Math.round(1.5 * trained.count)));
  const customers = generateCustomers(customerCount, random.fork());
  const purchases = generateInteractions(customers, trained, random.fork());
  const { train, test } = heldOutSplit(purchases, 0.1, random.fork());
  const rows = (of: Interactions) => Array.from(of.customer, (c) => customerInstance(customers, c));
  return {
    catalogue,
    trained,
    customers,
    train,
    test,
    trainRows: rows(train),
    testRows: rows(test),
  };
}

/** One customer as a client sends it in a predict request. */
export function customerInstance(customers: Customers, c: number): Record<string, unknown> {
  return {
    customer_id: customers.ids[c],
    city: CITIES[customers.city[c]!],
    segment: SEGMENTS[customers.segment[c]!],
    revenue: customers.revenue[c],
  };
}
