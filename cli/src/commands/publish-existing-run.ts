/**
 * Before `recdeploy publish` sends a training-completed message: does its run
 * exist already? The stack would drop the message (the register step keeps a
 * run's first message), so the command refuses with what to do instead,
 * unless --force asks for a duplicate delivery on purpose.
 */
import type { TrainingCompleted } from '@recdeploy/events';
import type { RunDocument, RuntimeConfig, ServingRecord } from '@recdeploy/shared';
import { cliLogger, describeRunStore, openRunStore } from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { existingRunGuidance } from '../output/existing-run.js';
import { Refusal } from '../output/refusal.js';

/**
 * The message's run when it exists and `force` is set; undefined when it does
 * not exist (or the message names no run: a pipeline log entry).
 * @throws Refusal (exit 3) when it exists and `force` is not set;
 *   Error when the store cannot be read and `force` is not set.
 */
export async function checkExistingRun(
  io: CliIo,
  config: RuntimeConfig,
  event: TrainingCompleted,
  force: boolean,
): Promise<RunDocument | undefined> {
  if (event.kind !== 'training_completed') return undefined;
  const runId = event.idempotencyKey;
  let found: { run: RunDocument; record?: ServingRecord } | undefined;
  try {
    found = await lookUp(io, config, runId);
  } catch (error) {
    const why = `could not check whether run ${runId} already exists in ${describeRunStore(config)}: ${error instanceof Error ? error.message : String(error)}`;
    if (!force) throw new Error(`${why}; pass --force to publish without that check`);
    io.err(`warning: ${why}; publishing anyway (--force)`);
    return undefined;
  }
  if (found === undefined) return undefined;
  if (!force)
    throw new Refusal(existingRunGuidance(found.run, event.message, found.record).join('\n'));
  return found.run;
}

async function lookUp(
  io: CliIo,
  config: RuntimeConfig,
  runId: string,
): Promise<{ run: RunDocument; record?: ServingRecord } | undefined> {
  // A local data directory without a store has no runs (and gets no empty store).
  const store = await openRunStore(config, cliLogger(io));
  if (store === undefined) return undefined;
  try {
    const run = await store.getRun(runId);
    if (run === undefined) return undefined;
    const service = run.serving?.service;
    const record = service === undefined ? undefined : await store.getServingRecord(service);
    return record === undefined ? { run } : { run, record };
  } finally {
    await store.close();
  }
}
