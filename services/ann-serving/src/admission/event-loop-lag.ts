/**
 * How long ready work currently waits for the event loop, in ms. When cheap
 * requests saturate the loop, they wait in the kernel's socket buffers until
 * the loop gets round to reading them; the server never sees that queue, but
 * a timer that is due and has not fired yet is delayed by exactly as long.
 *
 * A timer every `periodMs` measures how late it fired (the last iteration's
 * length, roughly); between firings, a probe that is already overdue counts
 * as late by that much, so a long iteration in progress is seen while it
 * lasts, not one period after it ended. perf_hooks' monitorEventLoopDelay
 * measures the same thing as a histogram, but admission needs the current
 * value, not a distribution to reset. The timer is unref'd: it never keeps
 * the process alive.
 */
export class EventLoopLag {
  private lastLagMs = 0;
  private dueAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs = 5) {}

  start(): void {
    if (this.timer !== undefined) return;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The current lag estimate, ms (0 before start). */
  lagMs(): number {
    if (this.timer === undefined) return 0;
    // Timers fire up to ~1 ms late on an idle loop; that is not lag.
    const overdue = performance.now() - this.dueAt - 1;
    return Math.max(this.lastLagMs, overdue, 0);
  }

  private arm(): void {
    this.dueAt = performance.now() + this.periodMs;
    this.timer = setTimeout(() => {
      this.lastLagMs = Math.max(0, performance.now() - this.dueAt - 1);
      this.arm();
    }, this.periodMs);
    this.timer.unref();
  }
}
