/**
 * A loopback gRPC server implementing `google.firestore.v1.Firestore/Commit`
 * from the protos `@google-cloud/firestore` ships: enough for a packed
 * function, pointed at it with FIRESTORE_EMULATOR_HOST, to record a rejected
 * event. Every Commit is recorded as it arrived on the wire. `RunQuery`
 * answers as Firestore does for a collection without matching documents (one
 * response with a read time and no document), so the reconciler's pass over
 * an empty store can be checked; every query is recorded too.
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

/** One RunQuery: the collection and its equality filters (`field == value`). */
export interface RecordedQuery {
  readonly parent: string;
  readonly collection: string;
  readonly filters: readonly string[];
}

interface FieldFilterWire {
  field?: { fieldPath?: string };
  op?: string;
  value?: FirestoreValueWire;
}

interface RunQueryRequestWire {
  parent: string;
  structuredQuery?: {
    from?: { collectionId?: string }[];
    where?: {
      fieldFilter?: FieldFilterWire;
      compositeFilter?: { filters?: { fieldFilter?: FieldFilterWire }[] };
    };
  };
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
  readonly queries: RecordedQuery[] = [];
  private readonly server = new grpc.Server();
  port = 0;

  constructor() {
    const root = loadGrpcPackage('@google-cloud/firestore', 'google/firestore/v1/firestore.proto');
    this.server.addService(serviceDefinition(root, 'google.firestore.v1.Firestore'), {
      Commit: (
        call: grpc.ServerUnaryCall<CommitRequestWire, unknown>,
        callback: Callback<unknown>,
      ) => this.onCommit(call, callback),
      RunQuery: (call: grpc.ServerWritableStream<RunQueryRequestWire, unknown>) =>
        this.onRunQuery(call),
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

  private onRunQuery(call: grpc.ServerWritableStream<RunQueryRequestWire, unknown>): void {
    const { parent, structuredQuery } = call.request;
    const where = structuredQuery?.where;
    const fieldFilters = [
      ...(where?.fieldFilter === undefined ? [] : [where.fieldFilter]),
      ...(where?.compositeFilter?.filters ?? []).flatMap((f) =>
        f.fieldFilter === undefined ? [] : [f.fieldFilter],
      ),
    ];
    this.queries.push({
      parent,
      collection: structuredQuery?.from?.[0]?.collectionId ?? '',
      filters: fieldFilters.map(
        (f) => `${f.field?.fieldPath} ${f.op} ${f.value?.stringValue ?? f.value?.valueType}`,
      ),
    });
    const now = { seconds: String(Math.floor(Date.now() / 1000)), nanos: 0 };
    call.write({ readTime: now });
    call.end();
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
