/**
 * Before a command puts a message on the local stack's bus (publish, retry,
 * deploy): something must deliver it. The local bus keeps a message only for
 * the subscriptions of its topic, as Pub/Sub does, and pushes it only while a
 * stack runs; a command says so up front instead of leaving a message that
 * silently never arrives.
 */
import fs from 'node:fs';
import path from 'node:path';
import { localDataFiles } from '@recdeploy/shared/wiring';
import { runningStack, type StackState } from '../stack/stack-state.js';

export interface LocalDelivery {
  /** The running stack, or undefined when the message waits (--queue) for one to start. */
  readonly stack?: StackState;
  /** The bus file, absolute. */
  readonly busFile: string;
}

/**
 * Checks that a stack runs on `dataDir` (unless `queue`) and that each of
 * `topics` has a subscription in its bus.
 * @param action what --queue would do anyway, for the message ("publish it").
 * @throws Error saying what is missing and what to do.
 */
export async function requireLocalDelivery(
  dataDir: string,
  topics: readonly string[],
  options: { readonly queue: boolean; readonly action: string },
): Promise<LocalDelivery> {
  const stack = runningStack(dataDir);
  if (stack === undefined && !options.queue) {
    throw new Error(
      `no local stack is running on ${path.resolve(dataDir)}: the message would sit undelivered in its bus until one starts. Start it with \`npm start\` (or \`recdeploy start --data-dir ${dataDir}\`) first, or pass --queue to ${options.action} anyway`,
    );
  }
  const busFile = path.resolve(localDataFiles(dataDir).eventBus);
  const noSubscription = (topic: string) =>
    new Error(
      `topic ${topic} has no subscription in ${busFile}, so the message would be dropped (a topic keeps messages only for its subscriptions, as in Pub/Sub); the local stack creates them on its first start`,
    );
  if (!fs.existsSync(busFile)) throw noSubscription(topics[0] ?? '?');
  const { LocalEventBus } = await import('@recdeploy/shared/local');
  const bus = new LocalEventBus({ file: busFile });
  try {
    const subscribed = new Set(bus.stats().subscriptions.map((s) => s.topic));
    const missing = topics.find((topic) => !subscribed.has(topic));
    if (missing !== undefined) throw noSubscription(missing);
  } finally {
    await bus.close();
  }
  return stack === undefined ? { busFile } : { stack, busFile };
}
