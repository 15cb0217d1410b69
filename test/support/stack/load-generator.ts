/**
 * Open-loop HTTP load for the stack tests: requests leave on a fixed
 * schedule (request i at start + i/rate), whether or not earlier ones have
 * answered, as live traffic does; a slow revision therefore meets the same
 * load as a fast one. At most `maxInFlight` are outstanding: a request due
 * while that many wait is not sent and is counted as skipped, so a hung
 * server cannot make the generator open sockets without bound. Loopback
 * only: it refuses any other host before sending anything.
 */
import http from 'node:http';
import { REVISION_HEADER } from '../../../shared/adapters/local/local-router-forward.js';

export interface LoadOptions {
  /** `http://127.0.0.1:port/path` (or localhost, ::1). */
  readonly url: string;
  /** Sent as the body of every request (POST when given, else GET). */
  readonly body?: string;
  readonly ratePerSecond: number;
  readonly durationMs: number;
  /** A request still unanswered after this long is aborted and counted as `timeout`. */
  readonly timeoutMs: number;
  /** @defaultValue 64 */
  readonly maxInFlight?: number;
}

export interface LoadReport {
  /** Requests sent. */
  readonly sent: number;
  /** Requests due while `maxInFlight` were outstanding, not sent. */
  readonly skipped: number;
  /** Answers by HTTP status, plus `network-error` and `timeout` for requests without one. */
  readonly byStatus: Record<string, number>;
  /**
   * Answers by the revision that the router named (REVISION_HEADER);
   * `failed` counts 5xx answers, as the router's metrics count errors.
   */
  readonly byRevision: Record<string, { requests: number; failed: number }>;
}

export interface LoadHandle {
  /** Sends nothing more; `done` still waits for the requests in flight. */
  stop(): void;
  readonly done: Promise<LoadReport>;
}

/** Starts sending at once; throws (before sending anything) on a non-loopback URL or bad numbers. */
export function startLoad(options: LoadOptions): LoadHandle {
  const url = loopbackUrl(options.url);
  const { ratePerSecond, durationMs, timeoutMs } = options;
  const maxInFlight = options.maxInFlight ?? 64;
  for (const [name, value] of Object.entries({
    ratePerSecond,
    durationMs,
    timeoutMs,
    maxInFlight,
  })) {
    if (!(Number.isFinite(value) && value > 0))
      throw new Error(`startLoad: ${name} must be > 0, got ${value}`);
  }
  const total = Math.floor((ratePerSecond * durationMs) / 1000);
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const byStatus: Record<string, number> = {};
  const byRevision: Record<string, { requests: number; failed: number }> = {};
  let due = 0;
  let sent = 0;
  let skipped = 0;
  let inFlight = 0;
  let stopped = false;
  let ended = false;
  let finish: (report: LoadReport) => void = () => undefined;
  const done = new Promise<LoadReport>((resolve) => (finish = resolve));
  const count = (key: string) => (byStatus[key] = (byStatus[key] ?? 0) + 1);

  const settle = () => {
    inFlight -= 1;
    if ((stopped || due >= total) && inFlight === 0) end();
  };
  const end = () => {
    if (ended) return;
    ended = true;
    clearInterval(timer);
    agent.destroy();
    finish({ sent, skipped, byStatus, byRevision });
  };
  const send = () => {
    sent += 1;
    inFlight += 1;
    const request = http.request(url, {
      method: options.body === undefined ? 'GET' : 'POST',
      agent,
      headers: options.body === undefined ? {} : { 'content-type': 'application/json' },
    });
    let settled = false;
    const once = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      outcome();
      settle();
    };
    const timeout = setTimeout(() => {
      once(() => count('timeout'));
      request.destroy();
    }, timeoutMs);
    request.on('response', (response) => {
      response.resume(); // the body is not needed, only its end
      response.on('end', () =>
        once(() => {
          const status = response.statusCode ?? 0;
          count(String(status));
          const revision = response.headers[REVISION_HEADER];
          if (typeof revision !== 'string') return;
          const entry = (byRevision[revision] ??= { requests: 0, failed: 0 });
          entry.requests += 1;
          if (status >= 500) entry.failed += 1;
        }),
      );
      response.on('error', () => once(() => count('network-error')));
    });
    request.on('error', () => once(() => count('network-error')));
    request.end(options.body);
  };

  const started = performance.now();
  // Ticks every few ms; each sends what the schedule says is due by now (timers drift, the schedule does not).
  const timer = setInterval(
    () => {
      if (stopped) return;
      const now = Math.min(
        total,
        Math.floor(((performance.now() - started) * ratePerSecond) / 1000) + 1,
      );
      for (; due < now; due += 1) {
        if (inFlight >= maxInFlight) skipped += 1;
        else send();
      }
      if (due >= total) {
        clearInterval(timer);
        if (inFlight === 0) end();
      }
    },
    Math.max(1, Math.min(10, 1000 / ratePerSecond)),
  );

  return {
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      if (inFlight === 0) end();
    },
    done,
  };
}

function loopbackUrl(text: string): URL {
  const url = new URL(text);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
  if (url.protocol !== 'http:' || !loopback) {
    throw new Error(`startLoad: only http on loopback is allowed, not ${text}`);
  }
  return url;
}
