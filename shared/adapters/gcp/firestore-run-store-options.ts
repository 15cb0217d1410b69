/** How the Firestore run store (firestore-run-store.ts) is set up. */
import type { Firestore } from '@google-cloud/firestore';
import type { Logger } from '../../logging/logger.port.js';

/** Options of the Firestore run store. */
export interface FirestoreRunStoreOptions {
  /** An injected client (tests, shared clients); closing the store leaves it open. */
  readonly firestore?: Firestore;
  /** For the client the store creates on first use when none is injected. */
  readonly projectId?: string;
  readonly databaseId?: string;
  /** @defaultValue 'deployments' (DESIGN.md §4) */
  readonly collection?: string;
  /** @defaultValue 'service_leases' */
  readonly leaseCollection?: string;
  /** @defaultValue 'serving_records' (one per serving service) */
  readonly servingCollection?: string;
  /** @defaultValue 'rejected_events' (bound it with a TTL policy on `expireAt`) */
  readonly rejectedCollection?: string;
  /** @defaultValue 'freshness_alerts' (one per open freshness breach) */
  readonly freshnessCollection?: string;
  readonly clock?: () => Date;
  /** Where watch() reports listener and stream errors; without one, a process warning. */
  readonly logger?: Logger;
}
