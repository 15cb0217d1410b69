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
 *
 * openLoopOverload (below) is the generator for overload: it must outrun
 * the server on the same two cores, so it speaks HTTP/1.1 over raw sockets
 * (node:http's client costs several times more per request), opens a new
 * connection whenever none is free (as many independent clients would), and
 * records what a client sees: status, Retry-After on 503s, and time-outs.
 */
import http from 'node:http';
import net from 'node:net';

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

export interface OverloadOptions {
  readonly port: number;
  readonly path: string;
  readonly bodies: readonly string[];
  /** Requests per second, sent on schedule whatever the server does. */
  readonly rate: number;
  readonly seconds: number;
  /** A request unanswered this long is abandoned by its client (socket closed): a time-out. */
  readonly timeoutMs: number;
  /** Most connections open at once; beyond them a due request waits for one (its clock runs). */
  readonly maxConnections: number;
  /** Connections opened before the first request (a client's warm pool); more open as needed. */
  readonly warmConnections?: number;
}

export interface OverloadResult {
  readonly sent: number;
  /** Answers by HTTP status. */
  readonly statuses: ReadonlyMap<number, number>;
  /** 503 answers that carried Retry-After. */
  readonly retryAfter: number;
  readonly timeouts: number;
  /** Connection failures (refused, reset) before an answer. */
  readonly errors: number;
  /** Latency of each 200, ms from its send, with when it was due (ms from the start). */
  readonly served: readonly { readonly at: number; readonly ms: number }[];
  /**
   * How late requests were sent, p99 ms: the generator's own timer lateness
   * plus any wait for a free connection of the pool.
   */
  readonly sendLatenessP99: number;
  readonly connectionsOpened: number;
}

interface InFlight {
  readonly due: number;
  readonly at: number;
  /** When its bytes were written (performance.now()); 0 until then. */
  sentAt: number;
}

/** One keep-alive connection carrying one request at a time. */
class Connection {
  private buffer: Buffer = Buffer.alloc(0);
  current: InFlight | undefined;
  constructor(
    readonly socket: net.Socket,
    private readonly onAnswer: (c: Connection, status: number, retryAfter: boolean) => void,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.read(chunk));
  }

  private read(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.buffer.toString('latin1', 0, end);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      this.buffer = this.buffer.subarray(end + 4 + length);
      const status = Number(head.slice(9, 12));
      const close = /\r\nconnection:\s*close/i.test(head);
      if (close) this.socket.destroy();
      this.onAnswer(this, status, /\r\nretry-after:/i.test(head));
    }
  }
}

/**
 * Offers `rate` requests per second for `seconds`, open loop: request i is
 * due at start + i / rate, sent then whatever happened to earlier ones (or as
 * soon as a connection of the pool is free). As in openLoopLatency, latency
 * counts from the send: the generator shares the cores and its own lateness
 * is reported apart. A request unanswered `timeoutMs` after its send (or, if
 * it never got a connection, after it was due) is a client time-out.
 */
export async function openLoopOverload(options: OverloadOptions): Promise<OverloadResult> {
  const requests = options.bodies.map((body) =>
    Buffer.from(
      `POST ${options.path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    ),
  );
  const total = Math.round(options.rate * options.seconds);
  const statuses = new Map<number, number>();
  const served: { at: number; ms: number }[] = [];
  const lateness: number[] = [];
  const idle: Connection[] = [];
  const waiting: InFlight[] = [];
  const open = new Set<Connection>();
  let retryAfter = 0;
  let timeouts = 0;
  let errors = 0;
  let opened = 0;
  let settled = 0;
  let next = 0;
  let start = performance.now();
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const settle = () => {
    if (++settled === total) finish();
  };

  const write = (connection: Connection, request: InFlight, index: number) => {
    connection.current = request;
    transmit(connection, index);
  };
  const transmit = (connection: Connection, index: number) => {
    if (connection.current === undefined) return; // timed out while connecting
    connection.current.sentAt = performance.now();
    lateness.push(connection.current.sentAt - connection.current.due);
    connection.socket.write(requests[index % requests.length]!);
  };
  const onAnswer = (connection: Connection, status: number, hasRetryAfter: boolean) => {
    const request = connection.current;
    connection.current = undefined;
    if (request === undefined) return;
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
    if (status === 503 && hasRetryAfter) retryAfter++;
    if (status === 200) served.push({ at: request.at, ms: performance.now() - request.sentAt });
    settle();
    if (!connection.socket.destroyed) release(connection);
  };
  const release = (connection: Connection) => {
    const request = waiting.shift();
    if (request) write(connection, request, next++);
    else idle.push(connection);
  };
  /** Opens a connection: for `request` (sent once connected), or idle for the warm pool. */
  const connect = (request: InFlight | undefined, index: number): Promise<void> => {
    opened++;
    const socket = net.connect(options.port, '127.0.0.1');
    const connection = new Connection(socket, onAnswer);
    open.add(connection);
    // Owned from now: a connection that fails or times out settles it.
    connection.current = request;
    socket.on('error', () => {});
    socket.once('close', () => {
      open.delete(connection);
      const at = idle.indexOf(connection);
      if (at >= 0) idle.splice(at, 1);
      if (connection.current !== undefined) {
        connection.current = undefined;
        errors++;
        settle();
      }
      const queued = waiting.shift();
      if (queued) void connect(queued, next++);
    });
    return new Promise((resolve) =>
      socket.once('connect', () => {
        if (request === undefined) release(connection);
        else transmit(connection, index);
        resolve();
      }),
    );
  };
  const send = (request: InFlight) => {
    const connection = idle.pop();
    if (connection) write(connection, request, next++);
    else if (open.size < options.maxConnections) void connect(request, next++);
    else waiting.push(request);
  };
  const pool = Array.from({ length: options.warmConnections ?? 0 }, () => connect(undefined, 0));
  await Promise.all(pool);
  start = performance.now();
  // Clients give up: a request older than the time-out closes its connection.
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const connection of open) {
      const request = connection.current;
      if (request === undefined || now - (request.sentAt || request.due) < options.timeoutMs) {
        continue;
      }
      connection.current = undefined;
      timeouts++;
      settle();
      connection.socket.destroy();
    }
    while (waiting.length > 0 && now - waiting[0]!.due >= options.timeoutMs) {
      waiting.shift();
      timeouts++;
      settle();
    }
  }, 50);

  for (let i = 0; i < total;) {
    const now = performance.now();
    // Everything due by now goes out in this turn; then wait for the next one.
    for (; i < total && start + (i * 1000) / options.rate <= now; i++) {
      const due = start + (i * 1000) / options.rate;
      send({ due, at: due - start, sentAt: 0 });
    }
    if (i < total) {
      const wait = start + (i * 1000) / options.rate - performance.now();
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
    }
  }
  await done;
  clearInterval(sweeper);
  for (const connection of open) connection.socket.destroy();
  lateness.sort((a, b) => a - b);
  return {
    sent: total,
    statuses,
    retryAfter,
    timeouts,
    errors,
    served,
    sendLatenessP99: lateness[Math.floor(lateness.length * 0.99)] ?? Number.NaN,
    connectionsOpened: opened,
  };
}
