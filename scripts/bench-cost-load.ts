/**
 * A closed-loop load generator that keeps two classes of requests apart:
 * `connections` loops, each sending request i (numbered across all loops
 * in send order) as soon as its previous answer has arrived, for `seconds`.
 * `classOf(i)` marks the requests whose numbers are reported separately
 * (the k = 1000 ones in bench-cost.ts), so the others' throughput and
 * latency can be compared with a run without them. Latency is from send to
 * the last byte, on the monotonic clock.
 */
import http from 'node:http';

export interface ClassResult {
  /** Answered 200. */
  readonly count: number;
  /** Answered otherwise (e.g. 503 from admission control); not in the latencies. */
  readonly failed: number;
  /** Answers per second over the run. */
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
}

/** One class's raw numbers from one run; runs pool with `summarise`. */
export interface Sample {
  readonly latencies: readonly number[];
  readonly failed: number;
  readonly seconds: number;
}

export interface ClosedLoopResult {
  readonly others: Sample;
  readonly marked: Sample;
}

export async function closedLoop(
  url: string,
  bodyOf: (i: number) => string,
  options: {
    readonly connections: number;
    readonly seconds: number;
    readonly classOf?: (i: number) => boolean;
  },
): Promise<ClosedLoopResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies = { others: [] as number[], marked: [] as number[] };
  const failed = { others: 0, marked: 0 };
  const start = performance.now();
  const end = start + options.seconds * 1000;
  let next = 0;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      const i = next++;
      const sent = performance.now();
      const status = await send(url, bodyOf(i), agent);
      const kind = options.classOf?.(i) ? 'marked' : 'others';
      if (status === 200) latencies[kind].push(performance.now() - sent);
      else failed[kind]++;
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsed = (performance.now() - start) / 1000;
  agent.destroy();
  return {
    others: { latencies: latencies.others, failed: failed.others, seconds: elapsed },
    marked: { latencies: latencies.marked, failed: failed.marked, seconds: elapsed },
  };
}

/** Throughput and latency over the pooled runs (throughput over their summed duration). */
export function summarise(samples: readonly Sample[]): ClassResult {
  const latencies = samples.flatMap((sample) => sample.latencies).sort((a, b) => a - b);
  const failed = samples.reduce((sum, sample) => sum + sample.failed, 0);
  const seconds = samples.reduce((sum, sample) => sum + sample.seconds, 0);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? Number.NaN;
  return {
    count: latencies.length,
    failed,
    rps: latencies.length / seconds,
    p50: at(0.5),
    p99: at(0.99),
  };
}

function send(url: string, body: string, agent: http.Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
    request.end(body);
  });
}
