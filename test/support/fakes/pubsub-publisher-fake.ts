/**
 * A local gRPC server implementing `google.pubsub.v1.Publisher` from the protos
 * `@google-cloud/pubsub` ships, so the real client can be tested over real gRPC
 * (see /work/shared/reference/grpc-fakes.md). It records every request exactly
 * as it arrived on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import {
  listenOnLoopback,
  loadGrpcPackage,
  serviceDefinition,
  serviceError,
  shutdown,
} from './grpc-fake-server.js';

/** One message of a Publish request, as the fake received it. */
export interface RecordedPubsubMessage {
  readonly data: Buffer;
  readonly attributes: Record<string, string>;
  readonly orderingKey: string;
}

/** One Publish call, as the fake received it. */
export interface RecordedPublish {
  readonly topic: string;
  readonly messages: readonly RecordedPubsubMessage[];
  /** The ids the fake answered with, one per message. */
  readonly messageIds: readonly string[];
}

// proto-loader hands handlers untyped objects; these are the fields we read.
interface PublishRequestWire {
  topic: string;
  messages: { data: Buffer; attributes: Record<string, string>; orderingKey: string }[];
}
interface GetTopicRequestWire {
  topic: string;
}
type Callback<T> = (error: grpc.ServiceError | null, response?: T) => void;
function loadPublisherService(): grpc.ServiceDefinition {
  const root = loadGrpcPackage('@google-cloud/pubsub', 'google/pubsub/v1/pubsub.proto');
  return serviceDefinition(root, 'google.pubsub.v1.Publisher');
}

/** The fake Pub/Sub Publisher. Start it, point a client at `port`, assert on `publishes`. */
export class PubSubPublisherFake {
  /** Every Publish request in arrival order, including those answered with an error. */
  readonly publishes: RecordedPublish[] = [];
  /** Number of RPCs of each method received (e.g. `{ Publish: 3 }`). */
  readonly calls: Record<string, number> = {};
  private readonly server = new grpc.Server();
  private readonly failures: { code: grpc.status; details: string }[] = [];
  private readonly knownTopics: Set<string> | undefined;
  private nextId = 1_000_000_000_000_001n;
  port = 0;

  /** @param topics When given, only these full topic names exist; others answer NOT_FOUND. */
  constructor(topics?: readonly string[]) {
    this.knownTopics = topics === undefined ? undefined : new Set(topics);
    this.server.addService(loadPublisherService(), {
      Publish: (call: { request: PublishRequestWire }, callback: Callback<unknown>) =>
        this.onPublish(call.request, callback),
      GetTopic: (call: { request: GetTopicRequestWire }, callback: Callback<unknown>) =>
        this.onGetTopic(call.request, callback),
    });
  }

  /** Binds 127.0.0.1 on a free port. */
  async start(): Promise<number> {
    this.port = await listenOnLoopback(this.server);
    return this.port;
  }

  async stop(): Promise<void> {
    await shutdown(this.server);
  }

  /** Answers the next `count` RPCs (of any method) with `code` instead of serving them. */
  failNext(count: number, code: grpc.status, details = 'injected by the fake'): void {
    for (let i = 0; i < count; i++) this.failures.push({ code, details });
  }

  private takeFailure(method: string): grpc.ServiceError | undefined {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
    const failure = this.failures.shift();
    return failure && serviceError(failure.code, failure.details);
  }

  private topicMissing(topic: string): grpc.ServiceError | undefined {
    if (this.knownTopics === undefined || this.knownTopics.has(topic)) return undefined;
    return serviceError(grpc.status.NOT_FOUND, `Resource not found (resource=${topic}).`);
  }

  private onPublish(request: PublishRequestWire, callback: Callback<unknown>): void {
    const error = this.takeFailure('Publish') ?? this.topicMissing(request.topic);
    const messageIds = error ? [] : request.messages.map(() => String(this.nextId++));
    this.publishes.push({
      topic: request.topic,
      messages: request.messages.map((m) => ({
        data: Buffer.from(m.data),
        attributes: { ...m.attributes },
        orderingKey: m.orderingKey,
      })),
      messageIds,
    });
    if (error) callback(error);
    else callback(null, { messageIds });
  }

  private onGetTopic(request: GetTopicRequestWire, callback: Callback<unknown>): void {
    const error = this.takeFailure('GetTopic') ?? this.topicMissing(request.topic);
    if (error) callback(error);
    else callback(null, { name: request.topic });
  }
}
