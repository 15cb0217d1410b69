import type { ModelBundle } from '../ann/bundle/bundle-reader.js';
import type { VerificationCheck } from '../domain/run-document.js';
import type { Logger } from '../logging/logger.port.js';
import type { ProductIdCatalogue } from './product-id-check.js';
import type { RevisionClient } from './revision-client.js';
import type { VerificationThresholds } from './thresholds.js';

/** What every check reads: the revision, the bundle it must serve, the thresholds. */
export interface CheckContext {
  readonly client: RevisionClient;
  readonly bundle: ModelBundle;
  readonly thresholds: VerificationThresholds;
  readonly logger: Logger;
  /** Results every ranked list must hold: the manifest's default_k, or N for a smaller catalogue. */
  readonly k: number;
  readonly catalogue: ProductIdCatalogue;
}

/** The k a revision returns without a per-request k (the server caps it at the catalogue size). */
export function expectedK(bundle: Pick<ModelBundle, 'manifest' | 'productIds'>): number {
  return Math.min(bundle.manifest.default_k, bundle.productIds.length);
}

/** Instances per predict request: far below ann-serving's MAX_INSTANCES default (256). */
export const PREDICT_CHUNK = 32;

/** A check that failed or passed with `detail`. */
export function checkResult(name: string, passed: boolean, detail: string): VerificationCheck {
  return { name, passed, detail };
}
