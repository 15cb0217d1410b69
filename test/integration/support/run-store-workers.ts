/**
 * A pool of worker threads, each with its own SqliteRunStore on one file, and
 * a way to make all of them run a command at the same instant. better-sqlite3
 * is synchronous, so only separate threads (or processes) race for real.
 */
import { Worker } from 'node:worker_threads';
import type { WorkerCommand, WorkerMessage, WorkerReply } from './sqlite-run-store-worker.js';

const WORKER_URL = new URL('./sqlite-run-store-worker.ts', import.meta.url).href;
/**
 * Workers run the TypeScript sources the way mocha does. On Node 20,
 * `execArgv: ['--import', 'tsx']` does not reach a worker's own entry module
 * (ERR_UNKNOWN_FILE_EXTENSION), so a small bootstrap registers tsx's loader
 * in the thread first and then imports the worker file.
 */
const BOOTSTRAP = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(WORKER_URL)}); })`;
const EXEC_ARGV = ['--conditions=source'];

/** One worker and its pending requests. */
class StoreWorker {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, (reply: WorkerReply) => void>();
  readonly ready: Promise<void>;

  constructor(file: string) {
    this.worker = new Worker(BOOTSTRAP, { eval: true, workerData: { file }, execArgv: EXEC_ARGV });
    this.ready = new Promise((resolve, reject) => {
      this.pending.set(0, () => resolve());
      this.worker.once('error', reject);
    });
    this.worker.on('message', (reply: WorkerReply) => {
      this.pending.get(reply.id)?.(reply);
      this.pending.delete(reply.id);
    });
  }

  send(command: WorkerCommand, barrier?: WorkerMessage['barrier']): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({
        id,
        command,
        ...(barrier ? { barrier } : {}),
      } satisfies WorkerMessage);
    });
  }

  async stop(): Promise<void> {
    await this.send({ op: 'close' });
    await this.worker.terminate();
  }
}

/** Workers sharing one SQLite file. */
export class StoreWorkerPool {
  private constructor(private readonly workers: readonly StoreWorker[]) {}

  /** Starts `size` workers on `file` and waits until each has opened its store. */
  static async start(file: string, size: number): Promise<StoreWorkerPool> {
    const workers = Array.from({ length: size }, () => new StoreWorker(file));
    await Promise.all(workers.map((w) => w.ready));
    return new StoreWorkerPool(workers);
  }

  /** Runs `commandFor(i)` on the first `parties` workers, all released by one barrier. */
  async race(
    commandFor: (index: number) => WorkerCommand,
    parties = this.workers.length,
  ): Promise<WorkerReply[]> {
    const racers = this.workers.slice(0, parties);
    const barrier = { buffer: new SharedArrayBuffer(4), parties: racers.length };
    return Promise.all(racers.map((w, i) => w.send(commandFor(i), barrier)));
  }

  /** Runs one command on worker `index`. */
  async on(index: number, command: WorkerCommand): Promise<WorkerReply> {
    const worker = this.workers[index];
    if (worker === undefined) throw new Error(`no worker ${index}`);
    return worker.send(command);
  }

  async stop(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
  }
}
