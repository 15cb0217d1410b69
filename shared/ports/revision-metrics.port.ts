/**
 * Live-traffic metrics of a service's revisions, for judging a canary step
 * against the stable revision over the same window. Cloud: Cloud Monitoring
 * (Cloud Run's request_count and request_latencies by revision_name); local:
 * what the service router recorded of every request it forwarded.
 */

/** One revision's requests over a window. */
export interface RevisionWindowMetrics {
  readonly revision: string;
  /** Requests that reached the revision (any answer) in the window. */
  readonly requests: number;
  /** Of those: 5xx answers and time-outs. */
  readonly errors: number;
  /** Latency percentiles over the window; absent when there were no requests. */
  readonly latencyP50Ms?: number;
  readonly latencyP99Ms?: number;
  /**
   * Prediction answers looked at for degeneracy (no ids, fewer than k ids,
   * every score equal) and how many were degenerate; absent when this source
   * cannot see answers for the revision.
   */
  readonly answers?: { readonly inspected: number; readonly degenerate: number };
}

export interface RevisionMetricsWindow {
  readonly from: Date;
  readonly to: Date;
}

export interface RevisionMetricsReading {
  /** One entry per asked revision, in the order asked (zero requests when it had none). */
  readonly revisions: readonly RevisionWindowMetrics[];
  /**
   * The source's data is complete up to here (≤ window.to): Cloud Monitoring
   * shows a sample minutes after it was taken, so a judgement must not treat
   * the last minutes as quiet.
   */
  readonly through: Date;
}

export interface RevisionMetricsSource {
  /**
   * The serving runtimes whose answers this source can judge (`answers`);
   * absent: every runtime. Cloud Monitoring counts ann-serving's
   * degenerate-answer log lines, which TF Serving does not write.
   */
  readonly seesAnswersOf?: readonly string[];
  /**
   * Metrics of each of `revisions` of `service` over the window.
   * @throws TransientError when the source cannot be read now (retried at the next tick).
   */
  read(
    service: string,
    revisions: readonly string[],
    window: RevisionMetricsWindow,
  ): Promise<RevisionMetricsReading>;
  close(): Promise<void>;
}
