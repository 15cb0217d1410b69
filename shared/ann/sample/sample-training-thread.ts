/**
 * trainSampleModel on a worker thread. Training is synchronous TF.js work of
 * 20–80 s on two cores; on the main thread it would leave a process deaf to
 * everything else for that long (the local stack could not hear Ctrl-C until
 * training ended). Here the caller's thread stays free, progress lines come
 * back as messages, and an abort ends the thread at once.
 *
 * Its own package entry (`@recdeploy/shared/ann/sample-thread`), not
 * re-exported by ann/index.ts: a function bundle built from that index must
 * not reach for a worker file it does not pack (scripts/pack-function.ts).
 */
import { Worker } from 'node:worker_threads';
import type { SampleModelOptions, SampleModelSummary } from './sample-options.js';

/** What the worker posts (sample-training-worker.ts). */
export type TrainingThreadMessage =
  | { readonly kind: 'progress'; readonly line: string }
  | { readonly kind: 'done'; readonly summary: SampleModelSummary }
  | { readonly kind: 'failed'; readonly message: string };

/** The options a worker can be given: everything but the progress callback. */
export type TrainingThreadOptions = Omit<SampleModelOptions, 'onProgress'>;

/**
 * Trains as trainSampleModel does, on a worker thread. Rejects with the
 * signal's reason as soon as it is aborted (the thread is terminated; a
 * half-written `out` is left for the caller to discard).
 */
export function trainSampleModelInThread(
  options: SampleModelOptions,
  signal?: AbortSignal,
): Promise<SampleModelSummary> {
  if (signal?.aborted) return Promise.reject(signal.reason as Error);
  const { onProgress, ...workerOptions } = options;
  const worker = startTrainingWorker(workerOptions);
  return new Promise<SampleModelSummary>((resolve, reject) => {
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = (): void => {
      void worker.terminate();
      settle(() => reject(signal?.reason as Error));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: TrainingThreadMessage) => {
      if (message.kind === 'progress') onProgress?.(message.line);
      else if (message.kind === 'done') settle(() => resolve(message.summary));
      else settle(() => reject(new Error(message.message)));
    });
    worker.once('error', (error) => settle(() => reject(error)));
    worker.once('exit', (code) =>
      settle(() =>
        reject(new Error(`the training thread ended (exit code ${code}) without a model`)),
      ),
    );
  });
}

/**
 * The worker on the compiled `.js` file, or, from the TypeScript sources
 * (tests, a stale build run through tsx), through a bootstrap that registers
 * tsx in the thread first: on Node 20 a loader registered in the main thread
 * does not reach a worker's entry module (as in search/shard-build.ts).
 */
function startTrainingWorker(options: TrainingThreadOptions): Worker {
  const fromSource = import.meta.url.endsWith('.ts');
  const url = new URL(`./sample-training-worker.${fromSource ? 'ts' : 'js'}`, import.meta.url);
  if (!fromSource) return new Worker(url, { workerData: options });
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData: options });
}
