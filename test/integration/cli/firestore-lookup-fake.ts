/**
 * A loopback gRPC server implementing `google.firestore.v1.Firestore/
 * BatchGetDocuments` (what `DocumentReference.get()` calls) from the protos
 * `@google-cloud/firestore` ships, answering every document as missing: enough
 * for `recdeploy publish --project`, pointed at it with FIRESTORE_EMULATOR_HOST,
 * to check that a run does not exist yet. Every request is recorded as it
 * arrived on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import {
  listenOnLoopback,
  loadGrpcPackage,
  serviceDefinition,
  shutdown,
} from '../../support/fakes/grpc-fake-server.js';

interface BatchGetRequestWire {
  readonly database: string;
  readonly documents: readonly string[];
}

export class FirestoreLookupFake {
  /** The document names each BatchGetDocuments asked for. */
  readonly lookups: BatchGetRequestWire[] = [];
  private readonly server = new grpc.Server();
  private port = 0;

  constructor() {
    const root = loadGrpcPackage('@google-cloud/firestore', 'google/firestore/v1/firestore.proto');
    this.server.addService(serviceDefinition(root, 'google.firestore.v1.Firestore'), {
      BatchGetDocuments: (call: grpc.ServerWritableStream<BatchGetRequestWire, unknown>) =>
        this.onBatchGet(call),
    });
  }

  /** `host:port` for FIRESTORE_EMULATOR_HOST. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await listenOnLoopback(this.server);
  }

  async stop(): Promise<void> {
    await shutdown(this.server);
  }

  private onBatchGet(call: grpc.ServerWritableStream<BatchGetRequestWire, unknown>): void {
    const { database, documents } = call.request;
    this.lookups.push({ database, documents: [...documents] });
    // The real service answers one message per document: `missing` with its name here.
    const readTime = { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 };
    for (const name of documents) call.write({ missing: name, readTime });
    call.end();
  }
}
