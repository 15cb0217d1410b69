/**
 * Serving records change in the same store transaction as the runs they move
 * (a run goes live, replaced or rolled_back), or just before a canary's run
 * is written (each step's split is recorded, then the step's state), and the
 * store's change feed carries runs only. So after a run in one of those
 * statuses changes, the record of its service is read once and passed on if
 * it differs from the last one passed on: one record read per such change
 * (for a canary, also per judgement of a holding step), none for the runs
 * still moving through register, deploy and verify.
 */
import type { Logger, RunDocument, RunStore, ServingRecord } from '@recdeploy/shared';

/** The statuses a serving change leaves runs in. */
const MOVED_BY_SERVING: readonly RunDocument['status'][] = [
  'live',
  'rolled_back',
  'replaced',
  'canary',
];

export class ServingFollower {
  /** service → the record last passed on, as JSON. */
  private readonly sent = new Map<string, string>();

  constructor(
    private readonly store: RunStore,
    private readonly logger: Logger,
    private readonly emit: (record: ServingRecord) => void,
  ) {}

  /** Called with every changed run; reads its service's record when the change may have moved it. */
  follow(run: RunDocument): void {
    const service = run.serving?.service;
    if (service === undefined || !MOVED_BY_SERVING.includes(run.status)) return;
    this.store.getServingRecord(service).then(
      (record) => {
        if (record === undefined) return;
        const json = JSON.stringify(record);
        if (this.sent.get(service) === json) return;
        this.sent.set(service, json);
        this.emit(record);
      },
      (error: unknown) =>
        this.logger.warn('could not read a serving record', { service, error: String(error) }),
    );
  }

  /** Forgets what was passed on (no one is listening any more). */
  reset(): void {
    this.sent.clear();
  }
}
