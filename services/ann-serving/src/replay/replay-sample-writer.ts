/**
 * Keeps the sample file up to date: at most one write per interval, and only
 * when the sample changed (Cloud Storage allows about one write per second
 * to one object, and the cloud sample is written at most once a minute), a
 * last write on shutdown, and at start the sample a previous process of the
 * same revision left, so a restart loses nothing. A failed write is one
 * warning line (never instance data) and is tried again at the next
 * interval; nothing here throws into the server or waits in a predict.
 */
import type { Logger } from '@recdeploy/shared';
import { formatReplaySample, parseReplaySample } from '@recdeploy/shared/ann';
import type { ReplaySampler } from './replay-sampler.js';
import type { ReplaySampleStore } from './replay-sample-store.js';

/** The timer the writer waits on (setTimeout, unref'd, in production; driven by hand in tests). */
export interface WriteTimer {
  set(callback: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMER: WriteTimer = {
  // unref: a pending write must not keep a stopping process alive.
  set: (callback, ms) => setTimeout(callback, ms).unref(),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface ReplaySampleWriterOptions {
  readonly intervalMs: number;
  readonly logger: Logger;
  /** Told of every write (metrics). */
  readonly onWrite?: (result: 'ok' | 'error') => void;
  readonly timer?: WriteTimer;
  /** Longest the last write at shutdown may take (default 2 s: Cloud Run kills 10 s after SIGTERM). */
  readonly closeTimeoutMs?: number;
}

export class ReplaySampleWriter {
  private written: number;
  private handle: unknown;
  private writing: Promise<void> | undefined;
  private closed = false;
  private readonly timer: WriteTimer;

  constructor(
    private readonly sampler: ReplaySampler,
    private readonly store: ReplaySampleStore,
    private readonly options: ReplaySampleWriterOptions,
  ) {
    this.timer = options.timer ?? REAL_TIMER;
    this.written = sampler.version;
  }

  /**
   * Seeds the sampler from the file a previous process of this revision
   * wrote, if any. Never throws: an unreadable or corrupt file is logged and
   * a new sample starts (and replaces it at the first write).
   */
  async restore(): Promise<void> {
    const { logger } = this.options;
    const uri = this.store.uri;
    let text: string | undefined;
    try {
      text = await this.store.read();
    } catch (error) {
      logger.warn('replay sample could not be read; starting a new one', {
        uri,
        error: messageOf(error),
      });
      return;
    }
    if (text === undefined) return;
    const parsed = parseReplaySample(text);
    if ('problem' in parsed) {
      logger.warn('replay sample is corrupt; ignored, starting a new one', {
        uri,
        problem: parsed.problem,
      });
      return;
    }
    this.sampler.restore(parsed.sample);
    this.written = this.sampler.version;
    logger.info('replay sample restored', {
      uri,
      seen: parsed.sample.seen,
      instances: this.sampler.size,
    });
  }

  /** Writes every interval from now on, when the sample changed. */
  start(): void {
    if (!this.closed) this.handle = this.timer.set(() => void this.tick(), this.options.intervalMs);
  }

  /** Stops the timer and writes what changed since the last write, once, within closeTimeoutMs. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer.clear(this.handle);
    const last = (async () => {
      await this.writing;
      await this.flush();
    })();
    const timeoutMs = this.options.closeTimeoutMs ?? 2000;
    let timeout: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timeout = setTimeout(() => resolve('expired'), timeoutMs).unref();
    });
    const outcome = await Promise.race([last, expired]);
    clearTimeout(timeout);
    if (outcome === 'expired') {
      this.options.logger.warn('replay sample not written at shutdown: the write took too long', {
        uri: this.store.uri,
        timeoutMs,
      });
    }
  }

  /** Writes the sample if it changed since the last successful write. */
  async flush(): Promise<void> {
    const version = this.sampler.version;
    if (version === this.written) return;
    this.writing = this.write(version);
    await this.writing;
    this.writing = undefined;
  }

  private async tick(): Promise<void> {
    await this.flush();
    // The next interval starts after this write: two writes never overlap.
    this.start();
  }

  private async write(version: number): Promise<void> {
    try {
      await this.store.write(formatReplaySample(this.sampler.snapshot()));
      this.written = version;
      this.options.onWrite?.('ok');
    } catch (error) {
      this.options.onWrite?.('error');
      this.options.logger.warn('replay sample write failed; trying again at the next interval', {
        uri: this.store.uri,
        error: messageOf(error),
      });
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
