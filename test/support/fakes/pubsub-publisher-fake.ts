/**
 * A local gRPC server implementing `google.pubsub.v1.Publisher` from the protos
 * `@google-cloud/pubsub` ships, so the real client can be tested over real gRPC
 * (see /work/shared/reference/grpc-fakes.md). It records every request exactly
 * as it arrived on the wire.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

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
interface ServiceDefinitionHolder {
  service: grpc.ServiceDefinition;
}

/** Walks up from a file until a folder holding `package.json` (exports may hide it). */
function packageRoot(entryFile: string): string {
  let dir = path.dirname(entryFile);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${entryFile}`);
    dir = parent;
  }
  return dir;
}

function loadPublisherService(): grpc.ServiceDefinition {
  const require = createRequire(import.meta.url);
  const pubsubMain = require.resolve('@google-cloud/pubsub');
  const pubsubRoot = packageRoot(pubsubMain);
  // google-gax is the client's own dependency: resolve it from the client's folder.
  const gaxRoot = packageRoot(createRequire(pubsubMain).resolve('google-gax'));
  const definition = protoLoader.loadSync('google/pubsub/v1/pubsub.proto', {
    includeDirs: [path.join(pubsubRoot, 'build/protos'), path.join(gaxRoot, 'build/protos')],
    keepCase: false,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  const loaded = grpc.loadPackageDefinition(definition);
  const holder = (loaded.google as grpc.GrpcObject)?.pubsub as grpc.GrpcObject | undefined;
  const publisher = (holder?.v1 as grpc.GrpcObject | undefined)?.Publisher as unknown;
  if (publisher === undefined) throw new Error('google.pubsub.v1.Publisher not found in protos');
  return (publisher as ServiceDefinitionHolder).service;
}

function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), {
    code,
    details,
    metadata: new grpc.Metadata(),
  });
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
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return this.port;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
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
