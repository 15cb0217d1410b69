/**
 * An open-loop load generator for latency at a fixed offered load. Request i
 * is sent at start + i / rate (to timer precision) whatever happened to
 * earlier ones, so a stalled server cannot slow the sending down and hide
 * its queueing (no coordinated omission): a request waiting for a free
 * connection or for the server counts from when it was sent. Timings use
 * the monotonic clock with microsecond resolution; autocannon's histograms
 * round to whole milliseconds, too coarse for a sub-millisecond overhead.
 *
 * The generator waits with timers, never by spinning: it shares the machine
 * with the server, and a spin loop took a whole core of two from it (the
 * parallel shard search then lost to the single-threaded one). Timer
 * lateness (up to ~1 ms) is the generator's own delay, not the server's, so
 * latency is counted from the actual send, not from the due time.
 */
import http from 'node:http';

export interface OpenLoopResult {
  readonly p50: number;
  readonly p99: number;
  readonly sent: number;
  readonly failed: number;
}

export async function openLoopLatency(
  url: string,
  bodies: readonly string[],
  options: { readonly rate: number; readonly seconds: number; readonly connections?: number },
): Promise<OpenLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections ?? 16 });
  const total = Math.round(options.rate * options.seconds);
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / options.rate;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const body = bodies[i % bodies.length] ?? '{}';
    const sent = performance.now();
    pending.push(
      send(url, body, agent).then(
        (ok) => {
          if (ok) latencies.push(performance.now() - sent);
          else failed++;
        },
        () => {
          failed++;
        },
      ),
    );
  }
  await Promise.all(pending);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return { p50: at(0.5), p99: at(0.99), sent: total, failed };
}

function send(url: string, body: string, agent: http.Agent): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
    });
    request.on('error', reject);
    request.end(body);
  });
}
