/**
 * The worker thread of trainSampleModelInThread: trains with the options it
 * was started with and posts its progress lines, then the summary or the
 * failure's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { trainSampleModel } from './sample-model.js';
import type { TrainingThreadMessage, TrainingThreadOptions } from './sample-training-thread.js';

const port = parentPort;
if (port === null) throw new Error('sample-training-worker.ts runs only as a worker thread');
const post = (message: TrainingThreadMessage): void => port.postMessage(message);

try {
  const summary = await trainSampleModel({
    ...(workerData as TrainingThreadOptions),
    onProgress: (line) => post({ kind: 'progress', line }),
  });
  post({ kind: 'done', summary });
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
