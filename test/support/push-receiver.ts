/**
 * A real HTTP push endpoint on 127.0.0.1 for event bus tests: records every
 * request exactly as it arrived and answers as the test scripts it (a status,
 * a delay, or no answer at all).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** The `MessagePublishedData` body of a Pub/Sub push. */
export interface PushBody {
  subscription: string;
  message: {
    data: string;
    attributes: Record<string, string>;
    messageId: string;
    message_id: string;
    publishTime: string;
    publish_time: string;
    orderingKey?: string;
  };
  deliveryAttempt: number;
}

/** One request the receiver got. */
export interface ReceivedPush {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly rawBody: string;
  readonly body: PushBody;
  readonly receivedAt: number;
  /** Set when the receiver has written its answer. */
  answeredAt?: number;
}

/** How to answer: a status (and body) after an optional delay, or never. */
export type PushAnswer = { status: number; body?: string; delayMs?: number } | 'hang';
export type Responder = (push: ReceivedPush, index: number) => PushAnswer;

export class PushReceiver {
  readonly received: ReceivedPush[] = [];
  /** Answers 204 to everything unless a test sets another responder. */
  responder: Responder = () => ({ status: 204 });
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly timers = new Set<NodeJS.Timeout>();

  /** Starts listening on a free loopback port; returns the base URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url();
  }

  url(path = '/'): string {
    const { port } = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${port}${path}`;
  }

  /** Pushes received on one path (e.g. one subscription's endpoint). */
  on(path: string): ReceivedPush[] {
    return this.received.filter((p) => p.path === path);
  }

  /** Resolves when `condition` holds, polling; rejects after `timeoutMs` with `what`. */
  async waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    // A bus killed mid-request leaves sockets that error; that is the point of some tests.
    req.on('error', () => undefined);
    res.on('error', () => undefined);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const push: ReceivedPush = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        rawBody,
        body: JSON.parse(rawBody) as PushBody,
        receivedAt: Date.now(),
      };
      this.received.push(push);
      const answer = this.responder(push, this.received.length - 1);
      if (answer === 'hang') return;
      const send = () => {
        push.answeredAt = Date.now();
        res.writeHead(answer.status).end(answer.body);
      };
      if (!answer.delayMs) return send();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, answer.delayMs);
      this.timers.add(timer);
    });
  }
}

/** Decodes a push's `message.data` back to the JSON that was published. */
export function decodeData(push: ReceivedPush): unknown {
  return JSON.parse(Buffer.from(push.body.message.data, 'base64').toString('utf8')) as unknown;
}
