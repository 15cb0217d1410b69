/**
 * Index builds that would outlast a function's time limit run elsewhere (a
 * Cloud Run job in the cloud, a child process on one machine). When a build
 * ends, successfully or not, the build publishes `notify` so the deploy step
 * runs again and finds the index (or the failure).
 */
import type { OutgoingMessage } from './event-bus.port.js';

export interface IndexBuildRequest {
  readonly runId: string;
  /** The bundle; the index is written to `{artifactUri}/ann/index/`. */
  readonly artifactUri: string;
  /** Published when the build ends (the deploy step's trigger, again). */
  readonly notify: { readonly topic: string; readonly message: OutgoingMessage };
}

export type IndexBuildState = 'running' | 'succeeded' | 'failed' | 'not_found';

export interface IndexBuildStatus {
  readonly state: IndexBuildState;
  /** The execution's name (Cloud Run job execution, local process id). */
  readonly execution?: string;
  /** Why it failed, when it did. */
  readonly error?: string;
}

export interface IndexBuilds {
  /** Starts the build unless one for this run is running or has finished; idempotent. */
  start(request: IndexBuildRequest): Promise<IndexBuildStatus>;
  /** The latest build of this run. */
  status(runId: string): Promise<IndexBuildStatus>;
  close(): Promise<void>;
}
