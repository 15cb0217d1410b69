/**
 * A worker thread with its own SqliteRunStore connection on a shared file:
 * another "process" for the concurrency tests. It waits for commands; a
 * command may carry a barrier (a SharedArrayBuffer counter) so that all
 * workers start their operation at the same moment.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { SqliteRunStore } from '@recdeploy/shared/local';
import type {
  ClaimStepRequest,
  CompleteStepRequest,
  ServiceLeaseRequest,
  TransitionRequest,
} from '@recdeploy/shared';

/** What the test thread may ask a worker to do. */
export type WorkerCommand =
  | { readonly op: 'deliverRegister'; readonly claim: ClaimStepRequest; readonly workMs?: number }
  | { readonly op: 'transition'; readonly request: TransitionRequest }
  | { readonly op: 'acquireServiceLease'; readonly request: ServiceLeaseRequest }
  | { readonly op: 'completeStep'; readonly request: CompleteStepRequest }
  | { readonly op: 'close' };

/** A command with its id and optional start barrier. */
export interface WorkerMessage {
  readonly id: number;
  readonly command: WorkerCommand;
  readonly barrier?: { readonly buffer: SharedArrayBuffer; readonly parties: number };
}

/** The answer: a result, or the error's code and message. */
export type WorkerReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };

const { file } = workerData as { file: string };
const store = new SqliteRunStore({ file });
const port = parentPort;
if (port === null) throw new Error('run this file as a worker thread');

/** Blocks until `parties` workers have arrived (Atomics.wait is allowed in workers). */
function awaitBarrier(barrier: NonNullable<WorkerMessage['barrier']>): void {
  const counter = new Int32Array(barrier.buffer);
  if (Atomics.add(counter, 0, 1) + 1 === barrier.parties) Atomics.notify(counter, 0);
  for (;;) {
    const arrived = Atomics.load(counter, 0);
    if (arrived >= barrier.parties) return;
    Atomics.wait(counter, 0, arrived, 100);
  }
}

/**
 * One delivery of a register event: claim first, then the side effect
 * (`workMs` of waiting), then complete, as a function handler does.
 */
async function deliverRegister(claim: ClaimStepRequest, workMs = 0): Promise<string> {
  const result = await store.claimStep(claim);
  if (result.kind === 'claimed') {
    await new Promise((resolve) => setTimeout(resolve, workMs));
    await store.completeStep({
      runId: claim.runId,
      step: claim.step,
      owner: claim.owner,
      eventId: claim.eventId,
    });
  }
  return result.kind;
}

async function run(command: WorkerCommand): Promise<unknown> {
  switch (command.op) {
    case 'deliverRegister':
      return deliverRegister(command.claim, command.workMs);
    case 'transition':
      return store.transition(command.request);
    case 'acquireServiceLease':
      return store.acquireServiceLease(command.request);
    case 'completeStep':
      return store.completeStep(command.request);
    case 'close':
      await store.close();
      return null;
  }
}

port.on('message', (message: WorkerMessage) => {
  if (message.barrier) awaitBarrier(message.barrier);
  run(message.command).then(
    (value) => port.postMessage({ id: message.id, ok: true, value } satisfies WorkerReply),
    (error: unknown) => {
      const { code, message: text } = error as { code?: unknown; message?: unknown };
      port.postMessage({
        id: message.id,
        ok: false,
        code: String(code),
        message: String(text),
      } satisfies WorkerReply);
    },
  );
});
port.postMessage({ id: 0, ok: true, value: 'ready' } satisfies WorkerReply);
