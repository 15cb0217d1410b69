/**
 * Live metrics for canary tick tests: what a RevisionMetricsSource reads
 * for each revision, set by the test (a healthy pair by default), and the
 * windows it was asked for.
 */
import type {
  RevisionMetricsReading,
  RevisionMetricsSource,
  RevisionWindowMetrics,
} from '@recdeploy/shared';

export const CANARY = 'recs-home-00002-b';

export type Health = (revision: string) => Omit<RevisionWindowMetrics, 'revision'>;
export const HEALTHY: Health = (revision) => ({
  requests: revision === CANARY ? 500 : 4_500,
  errors: 0,
  latencyP50Ms: 4,
  latencyP99Ms: 15,
  answers: { inspected: revision === CANARY ? 500 : 4_500, degenerate: 0 },
});

export class ScriptedMetrics implements RevisionMetricsSource {
  health: Health = HEALTHY;
  seesAnswersOf: readonly string[] | undefined;
  /** When set, every read fails with it (a source that cannot be read). */
  failure: Error | undefined;
  readonly windows: { from: string; to: string }[] = [];
  read(
    _service: string,
    revisions: readonly string[],
    window: { from: Date; to: Date },
  ): Promise<RevisionMetricsReading> {
    this.windows.push({ from: window.from.toISOString(), to: window.to.toISOString() });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return Promise.resolve({
      revisions: revisions.map((revision) => ({ revision, ...this.health(revision) })),
      through: window.to,
    });
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}
