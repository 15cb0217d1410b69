/**
 * Groups concurrent small requests into batches, like TF Serving's batching
 * (`max_batch_size`, `batch_timeout_micros`, `max_enqueued_batches`), so one
 * encoder call and one search serve many requests. One batch runs at a time;
 * requests that arrive meanwhile wait for the next. The queue is bounded: a
 * request that does not fit is refused at once (the caller answers 503 with
 * Retry-After) rather than waiting without bound.
 */

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

interface Task<T, R> {
  readonly items: readonly T[];
  readonly enqueuedAt: number;
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
  ) {}

  /** Items waiting for a batch (not counting the one running). */
  get pendingItems(): number {
    return this.queuedItems;
  }

  /** Most items that may wait at once. */
  get capacity(): number {
    return this.options.maxBatchSize * this.options.maxEnqueuedBatches;
  }

  /** Queues a task; resolves with its results. Throws QueueFullError synchronously when full. */
  submit(items: readonly T[]): Promise<R[]> {
    if (this.queuedItems + items.length > this.capacity) throw new QueueFullError(this.capacity);
    return new Promise<R[]>((resolve, reject) => {
      this.queue.push({ items, enqueuedAt: performance.now(), resolve, reject });
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
    const items = batch.flatMap((task) => task.items);
    this.running = true;
    this.onBatch(items.length);
    void this.run(batch, items);
  }

  private takeBatch(): Task<T, R>[] {
    const batch: Task<T, R>[] = [this.queue.shift()!];
    let size = batch[0]!.items.length;
    while (
      this.queue.length > 0 &&
      size + this.queue[0]!.items.length <= this.options.maxBatchSize
    ) {
      const task = this.queue.shift()!;
      size += task.items.length;
      batch.push(task);
    }
    this.queuedItems -= size;
    return batch;
  }

  private async run(batch: readonly Task<T, R>[], items: readonly T[]): Promise<void> {
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
