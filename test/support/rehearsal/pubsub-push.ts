/**
 * Pub/Sub push from the gcloud emulator to the chain's functions, and what
 * stands between them in the real path.
 *
 * The emulator pushes a raw push body ({ message: { data, attributes,
 * messageId, publishTime }, subscription }) in a plain JSON POST. In the cloud
 * the functions are called by Eventarc, which turns the same message into a
 * CloudEvent in binary content mode (ce-* headers, MessagePublishedData body).
 * The functions are registered as HTTP functions that decode the CloudEvent
 * themselves (shared/wiring/http-delivery-handler.ts), so the functions-
 * framework's own converter of raw pushes (legacyPubSubEventMiddleware, only
 * installed for `event`/`cloudevent` signatures) never runs, and a raw push
 * would be recorded as "not a CloudEvent" and acknowledged. EventarcFront is
 * that one missing hop: it re-sends each push as Eventarc would, with the
 * request builder the local bus uses (buildPushRequest), and answers the
 * emulator with the function's status, so a 500 is retried by the emulator as
 * by Pub/Sub. It also counts pushes, which is how a test knows that
 * everything published has been answered.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PubSub } from '@google-cloud/pubsub';
import { buildPushRequest, pushCloudEvent } from '../../../shared/adapters/local/push-delivery.js';

/** The raw push body of a Pub/Sub push subscription (https://cloud.google.com/pubsub/docs/push). */
interface RawPush {
  readonly message: {
    readonly data?: string;
    readonly attributes?: Record<string, string>;
    readonly messageId: string;
    readonly publishTime: string;
    readonly orderingKey?: string;
  };
  readonly subscription: string;
  readonly deliveryAttempt?: number;
}

interface Route {
  readonly topic: string;
  readonly target: string;
}

/** The push request timeout: a deploy builds an index and starts a server. */
const ACK_DEADLINE_S = 300;

export class EventarcFront {
  /** Message ids answered 2xx (acknowledged). */
  readonly acked = new Set<string>();
  /** Pushes answered with anything else, in order (status, message id). */
  readonly failures: { readonly messageId: string; readonly error: string }[] = [];
  private inFlight = 0;
  private lastActivity = Date.now();
  private readonly routes = new Map<string, Route>();
  private readonly server = http.createServer((req, res) => void this.handle(req, res));
  private readonly stopping = new AbortController();

  constructor(private readonly projectId: string) {}

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The push endpoint for messages of `topic`, delivered to `target`. */
  route(name: string, topic: string, target: string): string {
    this.routes.set(name, { topic, target });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/${name}`;
  }

  /** True when no push is being answered and none arrived for `quietMs`. */
  quiet(quietMs: number): boolean {
    return this.inFlight === 0 && Date.now() - this.lastActivity >= quietMs;
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight += 1;
    this.lastActivity = Date.now();
    try {
      const route = this.routes.get((req.url ?? '').replace(/^\//, ''));
      const push = parsePush(await readBody(req));
      if (route === undefined || push === undefined) {
        res.writeHead(400).end('not a push of a known subscription');
        return;
      }
      const request = buildPushRequest(
        this.projectId,
        push.subscription.split('/').pop() ?? push.subscription,
        {
          messageId: push.message.messageId,
          topic: route.topic,
          data: Buffer.from(push.message.data ?? '', 'base64'),
          attributes: push.message.attributes ?? {},
          orderingKey: push.message.orderingKey || null,
          publishTime: push.message.publishTime,
        },
        push.deliveryAttempt ?? 0,
      );
      const outcome = await pushCloudEvent(
        route.target,
        request,
        ACK_DEADLINE_S * 1000,
        this.stopping.signal,
      );
      if (outcome.kind === 'acked') {
        this.acked.add(push.message.messageId);
        res.writeHead(204).end();
        return;
      }
      const error = outcome.kind === 'failed' ? outcome.error : 'interrupted';
      this.failures.push({ messageId: push.message.messageId, error });
      res.writeHead(outcome.kind === 'failed' ? (outcome.status ?? 504) : 503).end(error);
    } finally {
      this.inFlight -= 1;
      this.lastActivity = Date.now();
    }
  }
}

function parsePush(body: string): RawPush | undefined {
  try {
    const parsed = JSON.parse(body) as Partial<RawPush>;
    return typeof parsed.subscription === 'string' && typeof parsed.message?.messageId === 'string'
      ? (parsed as RawPush)
      : undefined;
  } catch {
    return undefined;
  }
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Creates each topic and, for those with a target, a push subscription to the
 * front (the client finds the emulator by PUBSUB_EMULATOR_HOST, as the
 * functions do). The retry policy asks for the short backoff the local
 * chain's subscriptions use (0.1 to 1 s), so a push answered 500 (a step
 * busy elsewhere) comes back soon, as far as the emulator honours it.
 */
export async function createPushTopology(
  projectId: string,
  front: EventarcFront,
  topics: readonly { readonly topic: string; readonly pushTo?: string }[],
): Promise<PubSub> {
  const pubsub = new PubSub({ projectId });
  for (const { topic, pushTo } of topics) {
    const [created] = await pubsub.createTopic(topic);
    if (pushTo === undefined) continue;
    await created.createSubscription(`${topic}-push`, {
      pushConfig: { pushEndpoint: front.route(`${topic}-push`, topic, pushTo) },
      ackDeadlineSeconds: ACK_DEADLINE_S,
      retryPolicy: {
        minimumBackoff: { seconds: 0, nanos: 100_000_000 },
        maximumBackoff: { seconds: 1 },
      },
    });
  }
  return pubsub;
}
