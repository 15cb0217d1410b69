import type { ClientConfig, PubSub, PublishOptions, Topic } from '@google-cloud/pubsub';
import { PermanentError, TransientError } from '../../errors.js';
import { encodeJsonData } from '../encode-json-data.js';
import type { EventBus, OutgoingMessage } from '../../ports/event-bus.port.js';

/** Options of the Pub/Sub adapter. */
export interface PubSubEventBusOptions {
  readonly projectId: string;
  /**
   * An existing client (tests point one at a local fake); the bus then does
   * not close it. Topics are still named in `projectId`.
   */
  readonly pubsub?: PubSub;
  /** Passed to `new PubSub()` when the bus creates the client itself. */
  readonly clientOptions?: ClientConfig;
  /**
   * Publisher settings for every topic handle (batching, `gaxOpts` such as a
   * bounded retry). The client's defaults retry Publish for up to 600 s; a
   * push handler usually wants a shorter bound so its own delivery can retry.
   */
  readonly publishOptions?: PublishOptions;
}

// gRPC status codes (grpc/status.proto). Numeric here so shared/ needs no grpc dependency.
const NOT_FOUND = 5;
/** Codes that no retry can fix: the topic is missing, the request is malformed or forbidden. */
const PERMANENT_CODES: ReadonlySet<number> = new Set([
  3 /* INVALID_ARGUMENT */, 5 /* NOT_FOUND */, 7 /* PERMISSION_DENIED */,
]);

function grpcCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * Maps a publish failure to recdeploy's errors. Anything that is not known to
 * be permanent counts as transient (UNAVAILABLE, DEADLINE_EXCEEDED, unknown
 * errors…): the caller's delivery is then retried rather than dropped.
 */
export function toPublishError(error: unknown, topic: string): PermanentError | TransientError {
  const code = grpcCode(error);
  const reason = error instanceof Error ? error.message : String(error);
  const options = { cause: error, metadata: { topic, grpcCode: code ?? null } };
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    const errorCode = code === NOT_FOUND ? 'BUS.UNKNOWN_TOPIC' : 'BUS.PUBLISH_FAILED';
    return new PermanentError(errorCode, `publish to ${topic} failed: ${reason}`, options);
  }
  return new TransientError('BUS.PUBLISH_FAILED', `publish to ${topic} failed: ${reason}`, options);
}

/**
 * EventBus over Cloud Pub/Sub. The client library is loaded and the client
 * created on the first publish, never at import, so a deployable that only
 * constructs the bus starts fast and needs no credentials until it publishes.
 */
export class PubSubEventBus implements EventBus {
  private readonly options: PubSubEventBusOptions;
  private client: Promise<PubSub> | undefined;
  private readonly topics = new Map<string, { topic: Topic; ordered: boolean }>();
  private closed = false;

  constructor(options: PubSubEventBusOptions) {
    this.options = options;
  }

  /** Publishes JSON `data`; resolves with the server-assigned message id. */
  async publish(topicName: string, message: OutgoingMessage): Promise<string> {
    if (this.closed) {
      throw new TransientError('BUS.PUBLISH_FAILED', `bus closed; not publishing to ${topicName}`);
    }
    const data = encodeJsonData(topicName, message.data);
    const { orderingKey } = message;
    const topic = await this.topicHandle(topicName, orderingKey !== undefined);
    try {
      return await topic.publishMessage({
        data,
        attributes: { ...message.attributes },
        ...(orderingKey !== undefined && { orderingKey }),
      });
    } catch (error) {
      // A failed ordered publish pauses the key in the client; the caller's
      // retry must be able to publish it again.
      if (orderingKey !== undefined) topic.resumePublishing(orderingKey);
      throw toPublishError(error, topicName);
    }
  }

  /** Sends every batched message, then closes the client if the bus created it. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.topics.values()].map(({ topic }) => topic.flush()));
    if (this.client !== undefined && this.options.pubsub === undefined) {
      await (await this.client).close();
    }
  }

  private async topicHandle(name: string, ordered: boolean): Promise<Topic> {
    const cached = this.topics.get(name);
    if (cached && (cached.ordered || !ordered)) return cached.topic;
    const settings = { ...this.options.publishOptions, ...(ordered && { messageOrdering: true }) };
    if (cached) {
      // Ordering is switched on in place: replacing the handle would orphan its batches.
      cached.topic.setPublishOptions(settings);
      cached.ordered = true;
      return cached.topic;
    }
    // The full name makes `projectId` decide the project even for an injected client.
    const fullName = `projects/${this.options.projectId}/topics/${name}`;
    const topic = (await this.pubsub()).topic(fullName, settings);
    const raced = this.topics.get(name);
    if (raced) return this.topicHandle(name, ordered);
    this.topics.set(name, { topic, ordered });
    return topic;
  }

  private pubsub(): Promise<PubSub> {
    this.client ??= this.createClient();
    return this.client;
  }

  private async createClient(): Promise<PubSub> {
    if (this.options.pubsub) return this.options.pubsub;
    const { PubSub } = await import('@google-cloud/pubsub');
    return new PubSub({ ...this.options.clientOptions, projectId: this.options.projectId });
  }
}
