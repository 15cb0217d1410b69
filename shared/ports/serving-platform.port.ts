/**
 * Where models serve (Cloud Run in the cloud, local processes behind a
 * per-service router on one machine). A service serves one model endpoint;
 * each deployment is a new revision that gets traffic only when promoted.
 */

import type { ServingSettings } from '../domain/deployment-policy.js';
import type { RuntimeName } from '../domain/routing-policy.js';

export type { RuntimeName } from '../domain/routing-policy.js';

/** memory e.g. "4Gi", cpu e.g. "2", timeout in seconds, concurrent requests per instance. */
export type RevisionResources = ServingSettings;

/** Everything a new revision needs; equal specs describe the same revision. */
export interface RevisionSpec {
  /** Service id: lowercase letters, digits, "-", starts with a letter, < 50 chars. */
  readonly service: string;
  /** Deterministic revision name, `{service}-{suffix}` (a retried deploy finds it). */
  readonly revision: string;
  /** Traffic tag giving the revision its own URL while it has 0% traffic. */
  readonly tag: string;
  readonly runtime: RuntimeName;
  /** Container image (Cloud Run); the local platform runs services/ann-serving instead. */
  readonly image: string;
  /** MODEL_PATH, MODEL_NAME and runtime settings (SERVING_MODE …). */
  readonly env: Readonly<Record<string, string>>;
  readonly containerPort: number;
  /** Path of the startup probe (serving-container.ts startupProbePathFor). */
  readonly startupProbePath: string;
  readonly resources: RevisionResources;
  /**
   * Allow unauthenticated invocations (true) or require them to be
   * authenticated (false), applied when the revision is promoted; absent when
   * the run asked nothing: the service keeps its setting (a new one is private).
   */
  readonly public?: boolean;
  /** Labels for the revision (already sanitised). */
  readonly labels: Readonly<Record<string, string>>;
}

export interface DeployedRevision {
  readonly service: string;
  readonly revision: string;
  /** The URL reaching only this revision (its tag URL). */
  readonly tagUrl: string;
  /** The service URL (reaches whatever revision has traffic). */
  readonly serviceUrl: string;
  /**
   * The audience an ID token must name to call the service's URLs, tag URLs
   * included: Cloud Run's first custom audience, else its *.run.app URL
   * (https://cloud.google.com/run/docs/configuring/custom-audiences); absent:
   * `serviceUrl`.
   */
  readonly idTokenAudience?: string;
}

/** One revision's share of a traffic split. */
export interface TrafficShare {
  readonly revision: string;
  /** Whole percent, 1–100. */
  readonly percent: number;
}

/** A service's traffic as the platform reports it. */
export interface ServiceTraffic {
  readonly service: string;
  readonly serviceUrl: string;
  /** As in DeployedRevision: the service's ID-token audience; absent: `serviceUrl`. */
  readonly idTokenAudience?: string;
  /** The revision with 100% of traffic, if one has all of it. */
  readonly liveRevision?: string;
  /** The revision that was live before the last promote, when known (rollback target). */
  readonly previousRevision?: string;
  readonly targets: readonly {
    readonly revision: string;
    readonly percent: number;
    readonly tag?: string;
    readonly url?: string;
  }[];
}

export interface ServingPlatform {
  /**
   * Creates (or finds, when a retry already created it) the revision with 0%
   * traffic and its tag, creating the service on first use, and waits until
   * it is ready. Traffic of other revisions is unchanged.
   * @throws TransientError on conflicts and passing failures; PermanentError
   *   `PLATFORM.REVISION_FAILED` when the revision cannot become ready.
   */
  deployRevision(spec: RevisionSpec): Promise<DeployedRevision>;
  /** Sends 100% of traffic to `revision` (keeping tags); remembers the revision it replaces. */
  promote(service: string, revision: string): Promise<ServiceTraffic>;
  /**
   * Splits the service's traffic between named revisions (a canary step):
   * exactly the listed shares, every other revision 0%, tags kept. The shares
   * are whole percents that total 100, each revision at most once. Sending a
   * split the service already has changes nothing. A later `promote` of one
   * of them remembers the revision with the largest other share as the one it
   * replaced. @throws PermanentError `PLATFORM.REJECTED` for a split that does
   * not total 100 or names a revision the service does not have.
   */
  splitTraffic(service: string, split: readonly TrafficShare[]): Promise<ServiceTraffic>;
  /**
   * Sends 100% of traffic back to `toRevision`, or to the revision that was
   * live before the last promote. @throws PermanentError `PLATFORM.NOT_FOUND`
   * when there is nothing to roll back to.
   */
  rollback(service: string, toRevision?: string): Promise<ServiceTraffic>;
  /**
   * Gives up a revision that will never get traffic (it failed verification,
   * or a newer run superseded it): Cloud Run drops its tag (its instances
   * already scale to zero); the local platform stops its process. Refuses
   * (PermanentError `PLATFORM.REJECTED`) while the revision has traffic; a
   * revision that is already gone is not an error.
   */
  discardRevision(service: string, revision: string): Promise<void>;
  /** The service's traffic, or undefined when the service does not exist. */
  describe(service: string): Promise<ServiceTraffic | undefined>;
  close(): Promise<void>;
}
