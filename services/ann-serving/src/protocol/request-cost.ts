/**
 * What one predict request costs, and the ceiling on it. The cost is
 * instances × k: every instance is one nearest-neighbour search whose work
 * grows with k (hnswlib searches with max(ef, k) candidates, so a k above
 * the index's ef widens the search itself), and the answer carries
 * instances × k (id, score) pairs, which the main thread serialises and
 * sends: about 20 bytes of JSON each (19.1–19.8 measured on the sample
 * bundle; 256 × 1000 answers 5.07 MB). Both scale with the product, so one
 * number bounds both. The requested k counts, not the catalogue-capped one,
 * so a client can tell from its own request whether it fits.
 *
 * The default ceiling comes from `npm run bench:cost` on the sample bundle
 * (2,000 products, default k 100, two shards): large requests cost the main
 * thread 1.4–2.4 µs of CPU per unit (256 × 1000: 460–616 ms, during which
 * no other request is served; 32 × 1000: 45–58 ms; 256 × 100: 41–59 ms).
 * At 32,768 units one request holds the event loop for 45–75 ms at most and
 * answers at most ~650 KB, while every request of MAX_INSTANCES' default
 * (256) at the sample's default k (100) still fits. See docs/performance.md.
 */
import { invalidArgument, type TfStatusError } from './tf-status.js';

/**
 * The default of MAX_REQUEST_COST: the most instances × k one request may
 * ask for. It admits every request of up to 32 instances at any k up to
 * 1000, and 256 instances (MAX_INSTANCES' default) at k up to 128.
 */
export const DEFAULT_MAX_REQUEST_COST = 32_768;

/** A request's cost: instances × k (see the module comment for why). */
export function requestCost(instances: number, k: number): number {
  return instances * k;
}

/**
 * The error for a request above `maxCost`, or undefined when it fits. It
 * names the limit, the request's instances and k, and what to change, so the
 * client can fix the request without reading the server's configuration.
 */
export function requestCostError(
  instances: number,
  k: number,
  maxCost: number,
): TfStatusError | undefined {
  const cost = requestCost(instances, k);
  if (cost <= maxCost) return undefined;
  return invalidArgument(
    `Request cost ${cost} (${instances} ${instances === 1 ? 'instance' : 'instances'} × k ${k}) exceeds the limit of ${maxCost} ` +
      '(MAX_REQUEST_COST); send fewer instances or a smaller k',
  );
}

/**
 * Throws TF Serving's INVALID_ARGUMENT (HTTP 400) when a request of
 * `instances` instances asking for `k` results each costs more than
 * `maxCost` (MAX_REQUEST_COST, default DEFAULT_MAX_REQUEST_COST). Call it
 * after k and the instance count are known and before the request joins a
 * batch, so a refused request costs no search.
 */
export function checkRequestCost(instances: number, k: number, maxCost: number): void {
  const error = requestCostError(instances, k, maxCost);
  if (error) throw error;
}
