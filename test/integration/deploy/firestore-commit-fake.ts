/**
 * A loopback gRPC server implementing `google.firestore.v1.Firestore/Commit`
 * from the protos `@google-cloud/firestore` ships: enough for a packed
 * function, pointed at it with FIRESTORE_EMULATOR_HOST, to record a rejected
 * event. Every Commit is recorded as it arrived on the wire.
 */
import * as grpc from '@grpc/grpc-js';
import {
  listenOnLoopback,
  loadGrpcPackage,
  serviceDefinition,
  shutdown,
  type Callback,
} from '../../support/fakes/grpc-fake-server.js';

/** A Firestore Value as proto-loader decodes it (`oneofs: true` adds `valueType`). */
export interface FirestoreValueWire {
  readonly valueType?: string;
  readonly stringValue?: string;
  readonly integerValue?: string;
  readonly timestampValue?: { readonly seconds: string; readonly nanos: number };
}

/** One write of a Commit, with the fields we read. */
export interface RecordedWrite {
  readonly name: string;
  readonly fields: Readonly<Record<string, FirestoreValueWire>>;
  /** `currentDocument.exists` when the write has that precondition (create()). */
  readonly mustNotExist: boolean;
}

export interface RecordedCommit {
  readonly database: string;
  readonly writes: readonly RecordedWrite[];
  readonly authorization: string | undefined;
}

interface CommitRequestWire {
  database: string;
  writes: {
    update?: { name: string; fields: Record<string, FirestoreValueWire> };
    currentDocument?: { exists?: boolean; conditionType?: string };
  }[];
}

export class FirestoreCommitFake {
  readonly commits: RecordedCommit[] = [];
  private readonly server = new grpc.Server();
  port = 0;

  constructor() {
    const root = loadGrpcPackage('@google-cloud/firestore', 'google/firestore/v1/firestore.proto');
    this.server.addService(serviceDefinition(root, 'google.firestore.v1.Firestore'), {
      Commit: (
        call: grpc.ServerUnaryCall<CommitRequestWire, unknown>,
        callback: Callback<unknown>,
      ) => this.onCommit(call, callback),
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

  private onCommit(
    call: grpc.ServerUnaryCall<CommitRequestWire, unknown>,
    callback: Callback<unknown>,
  ): void {
    const { database, writes } = call.request;
    const authorization = call.metadata.get('authorization')[0];
    this.commits.push({
      database,
      authorization: typeof authorization === 'string' ? authorization : undefined,
      writes: writes.map((write) => ({
        name: write.update?.name ?? '',
        fields: write.update?.fields ?? {},
        mustNotExist:
          write.currentDocument?.conditionType === 'exists' &&
          write.currentDocument.exists === false,
      })),
    });
    const now = { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 };
    callback(null, { writeResults: writes.map(() => ({ updateTime: now })), commitTime: now });
  }
}
