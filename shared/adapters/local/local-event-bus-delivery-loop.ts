import type { Logger } from '../../logging/logger.port.js';
import { retryDelayMs } from './delivery-backoff.js';
import type { ClaimedDelivery, DeliveryQueue } from './local-event-bus-deliveries.js';
import { buildPushRequest, pushCloudEvent } from './push-delivery.js';

/** Settings of the delivery loop. */
export interface DeliveryLoopOptions {
  readonly queue: DeliveryQueue;
  readonly projectId: string;
  readonly maxInFlight: number;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
}

/**
 * Pushes due deliveries with bounded concurrency. It sleeps on a timer until
 * the next delivery comes due (at most `pollIntervalMs`, so messages other
 * processes publish into the same file are noticed), and is woken at once by
 * a publish in this process or a finished attempt. It never busy-waits.
 */
export class DeliveryLoop {
  private readonly inFlight = new Set<Promise<void>>();
  private stopSignal = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: DeliveryLoopOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.wake();
  }

  /** Cuts attempts in progress short (they go back as due) and waits for them to settle. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    this.stopSignal.abort();
    await Promise.allSettled([...this.inFlight]);
    this.stopSignal = new AbortController();
  }

  /** Runs the loop on the next tick; bursts of publishes coalesce into one run. */
  wake(): void {
    if (this.running) this.schedule(0);
  }

  private schedule(delayMs: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.pump(), delayMs);
  }

  /** Claims what is due and free slots allow, then sleeps until the next due time. */
  private pump(): void {
    this.timer = undefined;
    if (!this.running) return;
    const { queue, maxInFlight, pollIntervalMs } = this.options;
    try {
      const free = maxInFlight - this.inFlight.size;
      if (free > 0) for (const d of queue.claimDue(Date.now(), free)) this.deliver(d);
      // With every slot busy, the next finished attempt pumps again.
      if (this.inFlight.size >= maxInFlight) return;
      const due = queue.nextDueAt();
      const wait = due === undefined ? pollIntervalMs : due - Date.now();
      this.schedule(Math.min(pollIntervalMs, Math.max(0, wait)));
    } catch (error) {
      this.options.logger.error('event bus: delivery loop failed; trying again', {
        error: String(error),
      });
      this.schedule(pollIntervalMs);
    }
  }

  private deliver(d: ClaimedDelivery): void {
    const task: Promise<void> = this.attempt(d).finally(() => {
      this.inFlight.delete(task);
      this.pump();
    });
    this.inFlight.add(task);
  }

  /** One push and its verdict: ack, retry later, dead-letter, or (on stop) put back. */
  private async attempt(d: ClaimedDelivery): Promise<void> {
    const { queue, logger, projectId } = this.options;
    const { subscription: sub, message } = d;
    const request = buildPushRequest(projectId, sub.name, message, d.attempt);
    const signal = this.stopSignal.signal;
    const outcome = await pushCloudEvent(sub.pushEndpoint, request, sub.ackDeadlineMs, signal);
    const meta = { subscription: sub.name, messageId: message.messageId, attempt: d.attempt };
    try {
      if (outcome.kind === 'acked') {
        queue.ack(d);
        logger.debug('event bus: delivered', { ...meta, status: outcome.status });
      } else if (outcome.kind === 'interrupted') {
        queue.release(d, Date.now());
      } else if (d.attempt >= sub.maxDeliveryAttempts) {
        queue.deadLetter(d, outcome);
        logger.error('event bus: dead-lettered', { ...meta, error: outcome.error });
      } else {
        const delayMs = retryDelayMs(sub, d.attempt);
        queue.retryAt(d, outcome, Date.now() + delayMs);
        logger.warn('event bus: delivery failed; will retry', {
          ...meta,
          delayMs,
          error: outcome.error,
        });
      }
    } catch (error) {
      // The lease still runs out, so the delivery is pushed again: nothing is lost.
      logger.error('event bus: could not record an outcome', { ...meta, error: String(error) });
    }
  }
}
