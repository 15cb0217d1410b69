/**
 * What the verify step hands the `replay` check: the live revision's sample
 * of real predict instances and where that revision answers, or why there is
 * nothing to replay (the check is then skipped, never passed).
 */
import type { ReplayInstance } from '../ann/bundle/replay-sample.js';

export interface ReplaySampleToReplay {
  /** Where the sample was read (a file:// or gs:// object). */
  readonly sampleUri: string;
  /** When the live revision last wrote it. */
  readonly sampledAt: string;
  /** The revision whose traffic was sampled; it answers the live side. */
  readonly liveRevision: string;
  /** A URL that reaches the live revision only (its tag URL). */
  readonly liveUrl: string;
  readonly instances: readonly ReplayInstance[];
  /** The endpoint's policy gates on overlap@k with the live revision. */
  readonly minOverlap?: number;
}

/** Nothing to replay, and the precise reason (it becomes the skipped check's detail). */
export interface ReplayNotRun {
  readonly notRun: string;
}

export type ReplayInput = ReplaySampleToReplay | ReplayNotRun;
