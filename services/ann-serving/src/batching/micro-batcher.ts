/**
 * Groups concurrent small requests into batches, like TF Serving's batching
 * (`max_batch_size`, `batch_timeout_micros`, `max_enqueued_batches`), so one
 * encoder call and one search serve many requests. One batch runs at a time;
 * requests that arrive meanwhile wait for the next. The queue is bounded: a
 * request that does not fit is refused at once (the caller answers 503 with
 * Retry-After) rather than waiting without bound.
 *
 * When a batch is taken, tasks whose client has gone (their AbortSignal)
 * are dropped rather than computed, and, with an admission policy, tasks
 * that have already waited too long since they arrived are refused
 * (OverloadedError → 503) rather than run late.
 */
import { RequestAbandonedError } from '../admission/abandoned.js';
import { OVERLOADED_MESSAGE } from '../admission/admission-controller.js';

/** Batching limits; see ServingConfig for the environment variables. */
export interface BatchingOptions {
  /** Most items in one batch; a single larger task runs as a batch of its own. */
  readonly maxBatchSize: number;
  /**
   * How long the first waiting task may wait for the batch to fill while the
   * processor is idle. 0 means "what arrived in the same event-loop turn";
   * otherwise Node timers round it up to whole milliseconds.
   */
  readonly timeoutMicros: number;
  /** Queue bound, in batches: at most maxBatchSize × maxEnqueuedBatches items wait. */
  readonly maxEnqueuedBatches: number;
  /** Delay-based admission (admission/admission-controller.ts); none: only the queue bound. */
  readonly admission?: BatchAdmission;
}

/** What the batcher asks of an admission policy. */
export interface BatchAdmission {
  /** Called once by each batcher: how to read the age (ms) of its oldest waiting task, 0 if none. */
  watchQueue(oldestQueuedMs: () => number): void;
  /** A task about to run waited `sojournMs` since it arrived: true refuses it instead. */
  shedAtDequeue(sojournMs: number): boolean;
  /** A batch ran for `durationMs` (the wait a task behind it cannot avoid). */
  observeBatch(durationMs: number): void;
}

/** Per-task options (the interface BatchedPredictor.predict forwards). */
export interface SubmitOptions {
  /** Aborted when the client has gone: the task is dropped if its batch has not started. */
  readonly signal?: AbortSignal;
  /** When the request arrived (performance.now()); default: when submitted. */
  readonly arrivedAt?: number;
}

/** Runs one batch: results in the order of the items. */
export type BatchProcessor<T, R> = (items: readonly T[]) => Promise<readonly R[]>;

/** The queue is full; the request was not accepted. */
export class QueueFullError extends Error {
  constructor(readonly capacity: number) {
    super('The batch scheduling queue to which this task was submitted is full');
    this.name = 'QueueFullError';
  }
}

/** The task waited longer than the admission policy allows; it was not run. */
export class OverloadedError extends Error {
  constructor(readonly waitedMs: number) {
    super(OVERLOADED_MESSAGE);
    this.name = 'OverloadedError';
  }
}

interface Task<T, R> {
  readonly items: readonly T[];
  readonly enqueuedAt: number;
  readonly arrivedAt: number;
  readonly signal: AbortSignal | undefined;
  readonly resolve: (results: R[]) => void;
  readonly reject: (error: unknown) => void;
}

export class MicroBatcher<T, R> {
  private readonly queue: Task<T, R>[] = [];
  private queuedItems = 0;
  private running = false;
  private timer: { cancel(): void } | undefined;

  constructor(
    private readonly options: BatchingOptions,
    private readonly process: BatchProcessor<T, R>,
    /** Told the size of every batch that starts (a metric). */
    private readonly onBatch: (size: number) => void = () => {},
  ) {
    options.admission?.watchQueue(() => this.oldestQueuedMs());
  }

  /** Items waiting for a batch (not counting the one running). */
  get pendingItems(): number {
    return this.queuedItems;
  }

  /** Most items that may wait at once. */
  get capacity(): number {
    return this.options.maxBatchSize * this.options.maxEnqueuedBatches;
  }

  /** How long the oldest waiting task has waited since it arrived, ms; 0 when none waits. */
  oldestQueuedMs(): number {
    const head = this.queue[0];
    return head === undefined ? 0 : performance.now() - head.arrivedAt;
  }

  /**
   * Queues a task; resolves with its results. Throws QueueFullError
   * synchronously when full; rejects with RequestAbandonedError when its
   * signal aborts before its batch starts, with OverloadedError when the
   * admission policy refuses it at dequeue.
   */
  submit(items: readonly T[], options: SubmitOptions = {}): Promise<R[]> {
    if (this.queuedItems + items.length > this.capacity) throw new QueueFullError(this.capacity);
    const enqueuedAt = performance.now();
    const { signal, arrivedAt = enqueuedAt } = options;
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, enqueuedAt, arrivedAt, signal, resolve, reject });
      this.queuedItems += items.length;
      this.schedule();
    });
  }

  /** Starts a batch now when one is full, otherwise arms the timeout of the oldest task. */
  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    if (this.queuedItems >= this.options.maxBatchSize) {
      this.dispatch();
      return;
    }
    if (this.timer !== undefined) return;
    const waitedMicros = (performance.now() - this.queue[0]!.enqueuedAt) * 1000;
    const remainingMicros = this.options.timeoutMicros - waitedMicros;
    this.timer =
      remainingMicros <= 0
        ? nextTurn(() => this.dispatch())
        : after(remainingMicros, () => this.dispatch());
  }

  private dispatch(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.running || this.queue.length === 0) return;
    const batch = this.takeBatch();
    if (batch.length === 0) return; // every task taken was dropped; nothing else waits
    const items = batch.flatMap((task) => task.items);
    this.running = true;
    this.onBatch(items.length);
    void this.run(batch, items);
  }

  /**
   * Takes tasks from the head while they fit (the first always does),
   * dropping on the way those whose client has gone or that waited too long.
   */
  private takeBatch(): Task<T, R>[] {
    const batch: Task<T, R>[] = [];
    let size = 0;
    const now = performance.now();
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      if (batch.length > 0 && size + head.items.length > this.options.maxBatchSize) break;
      this.queue.shift();
      this.queuedItems -= head.items.length;
      if (head.signal?.aborted) {
        head.reject(new RequestAbandonedError('in_queue'));
      } else if (this.options.admission?.shedAtDequeue(now - head.arrivedAt)) {
        head.reject(new OverloadedError(now - head.arrivedAt));
      } else {
        size += head.items.length;
        batch.push(head);
      }
    }
    return batch;
  }

  private async run(batch: readonly Task<T, R>[], items: readonly T[]): Promise<void> {
    const started = performance.now();
    try {
      const results = await this.process(items);
      if (results.length !== items.length) {
        throw new Error(
          `batch processor returned ${results.length} results for ${items.length} items`,
        );
      }
      let offset = 0;
      for (const task of batch) {
        task.resolve(results.slice(offset, offset + task.items.length));
        offset += task.items.length;
      }
    } catch (error) {
      for (const task of batch) task.reject(error);
    } finally {
      this.options.admission?.observeBatch(performance.now() - started);
      this.running = false;
      this.schedule();
    }
  }
}

/** After I/O already received has been read, so requests that arrived together batch together. */
function nextTurn(callback: () => void): { cancel(): void } {
  const handle = setImmediate(callback);
  return { cancel: () => clearImmediate(handle) };
}

function after(micros: number, callback: () => void): { cancel(): void } {
  const handle = setTimeout(callback, Math.ceil(micros / 1000));
  return { cancel: () => clearTimeout(handle) };
}
