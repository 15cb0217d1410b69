/**
 * Admission control on the real bottleneck: the time a predict request waits
 * before its batch runs. With cheap requests the event loop is what
 * saturates, and the excess then waits in the kernel's socket queues where
 * no queue length is visible; what is visible is delay. So the controller
 * bounds delay, CoDel-style (RFC 8289's target and interval, applied to
 * requests instead of packets):
 *
 * - The delay a request arriving now would see is estimated as the larger of
 *   the event loop's current lag (how long ready sockets wait to be read)
 *   and the age of the oldest request waiting in the batch queue.
 * - What a request must wait anyway, for the batch already running, is not
 *   queueing: the estimate is compared with the target plus the recent
 *   batch duration (a moving average), so requests whose batches take
 *   30 ms are not shed at moderate load for waiting 30 ms.
 * - A burst is tolerated: the estimate may stay above `targetMs` for up to
 *   `intervalMs` before anything is refused, so a GC pause or a short spike
 *   costs latency, not errors.
 * - A standing queue is not: once the estimate has been above target for a
 *   whole interval, every predict request arriving while it is above target
 *   is refused at once (503 with Retry-After), and because shedding keeps
 *   happening under sustained overload, the next excursion above target is
 *   shed immediately rather than after another interval. Burst tolerance
 *   returns after an interval with nothing shed.
 * - At dequeue, a request that has already waited longer than the interval
 *   (the longest burst tolerated) is refused instead of run: its client
 *   would rather hear now than after a queue it cannot see. This is the
 *   backstop for requests admitted just before overload showed; the door
 *   does the shedding, so admitted work is rarely thrown away.
 *
 * A concurrency limit adapting to latency (Envoy's gradient controller,
 * Netflix's Gradient2) was the alternative; it needs periodic minRTT probes
 * at very low concurrency, which here would throttle a server whose single
 * queue delay can simply be measured. Pure: the clock and the two delay
 * sources are injected, so its decisions are unit-tested without time.
 */

/** The error text of every 503 that sheds load (TF Serving's UNAVAILABLE form). */
export const OVERLOADED_MESSAGE =
  'The server is overloaded: request refused to keep queueing delay bounded; retry later';

/** Why a request was refused with 503. */
export type ShedReason = 'event_loop' | 'queue_delay' | 'queue_full' | 'sojourn';

export interface AdmissionOptions {
  /** Acceptable standing delay, ms (CoDel's target). 0 turns delay-based shedding off. */
  readonly targetMs: number;
  /** How long the delay may stay above target before shedding starts, ms (CoDel's interval). */
  readonly intervalMs: number;
}

export class AdmissionController {
  /** When the current excursion above target began; undefined while below target. */
  private aboveSince: number | undefined;
  /** When admission was last asked: an excursion seen long before says nothing about now. */
  private lastAskedAt = Number.NEGATIVE_INFINITY;
  /** When a request was last shed (door or dequeue). */
  private lastShedAt = Number.NEGATIVE_INFINITY;
  private queueAge: () => number = () => 0;
  /** Moving average of batch durations, ms: the wait no admission can avoid. */
  private batchMs = 0;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly loopLagMs: () => number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The batch queue to watch (the micro-batcher registers itself; one per loaded model). */
  watchQueue(oldestQueuedMs: () => number): void {
    this.queueAge = oldestQueuedMs;
  }

  /** A batch took `durationMs` (from its start to its results). */
  observeBatch(durationMs: number): void {
    // An exponential average over roughly the last ten batches.
    this.batchMs += (durationMs - this.batchMs) * 0.1;
  }

  /** The delay tolerated before a request is refused, ms: the target beyond the running batch. */
  get thresholdMs(): number {
    return this.options.targetMs + this.batchMs;
  }

  /** The delay estimate for a request arriving now, ms. */
  estimatedDelayMs(): number {
    return Math.max(this.loopLagMs(), this.queueAge());
  }

  /** True while overload has been standing (shedding now or recently). */
  get shedding(): boolean {
    return this.now() - this.lastShedAt < this.options.intervalMs;
  }

  /**
   * At the door, before the body is read: undefined to admit, or why the
   * request must be refused at once.
   */
  admit(): ShedReason | undefined {
    if (this.options.targetMs <= 0) return undefined;
    const lag = this.loopLagMs();
    const queued = this.queueAge();
    const delay = Math.max(lag, queued);
    const now = this.now();
    if (now - this.lastAskedAt > this.options.intervalMs) this.aboveSince = undefined;
    this.lastAskedAt = now;
    if (delay <= this.thresholdMs) {
      this.aboveSince = undefined;
      return undefined;
    }
    this.aboveSince ??= now;
    const standing = now - this.aboveSince >= this.options.intervalMs;
    if (!standing && !this.shedding) return undefined;
    this.lastShedAt = now;
    return lag >= queued ? 'event_loop' : 'queue_delay';
  }

  /**
   * At dequeue: whether a request that has waited `sojournMs` since it
   * arrived should be refused rather than run (it waited beyond a burst).
   */
  shedAtDequeue(sojournMs: number): boolean {
    if (this.options.targetMs <= 0 || sojournMs <= this.options.intervalMs) return false;
    this.lastShedAt = this.now();
    return true;
  }
}
