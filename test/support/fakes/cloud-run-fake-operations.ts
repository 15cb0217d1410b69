/**
 * The long-running operations behind the Cloud Run fake's writes. Each ends
 * after a number of observations: GetOperation polls (what gax does while a
 * caller awaits `operation.promise()`), or reads of the service it changes,
 * since Cloud Run reconciles whether or not anyone polls
 * (/work/shared/reference/grpc-fakes.md, "Long-running operations").
 */
import { notFound, type OperationOutcome, type OperationWire } from './cloud-run-fake-wire.js';

interface PendingOperation {
  /** Observations left before it ends. */
  pollsLeft: number;
  /** The service the operation reconciles, if it is a service write. */
  readonly service?: string;
  /** Ends the operation: a response or an error; undefined while it cannot end yet. */
  readonly finish: () => OperationOutcome | undefined;
  outcome?: OperationOutcome;
}

export class FakeOperations {
  private readonly operations = new Map<string, PendingOperation>();
  private held = false;

  constructor(
    private readonly parent: string,
    private readonly next: () => number,
    /** Observations answered `done: false` before an operation can end. */
    private readonly pendingPolls: number,
  ) {}

  /** Keeps every operation pending (a reconciliation that never ends). */
  hold(): void {
    this.held = true;
  }

  /** A new operation, answered `done: false` as Cloud Run answers every write. */
  start(
    metadata: OperationWire['metadata'],
    service: string | undefined,
    finish: PendingOperation['finish'],
  ): OperationWire {
    const name = `${this.parent}/operations/op-${this.next()}`;
    this.operations.set(name, {
      pollsLeft: this.pendingPolls,
      finish,
      ...(service !== undefined && { service }),
    });
    return { name, done: false, ...(metadata && { metadata }) };
  }

  /** GetOperation: one observation of the operation. */
  get(name: string): OperationWire {
    const operation = this.operations.get(name);
    if (!operation) throw notFound(name);
    const outcome = this.advance(operation);
    return outcome === undefined ? { name, done: false } : { name, done: true, ...outcome };
  }

  /** A read of `service`: one observation of each operation still changing it. */
  observeService(service: string): void {
    for (const operation of this.operations.values()) {
      if (operation.service === service) this.advance(operation);
    }
  }

  private advance(operation: PendingOperation): OperationOutcome | undefined {
    if (operation.outcome !== undefined) return operation.outcome;
    if (this.held || operation.pollsLeft > 0) {
      operation.pollsLeft--;
      return undefined;
    }
    operation.outcome = operation.finish();
    return operation.outcome;
  }
}
