/**
 * The registry's `live` alias follows what serves (ModelRegistry.markServing).
 * The traffic move is the truth: a promote, a completed canary or a rollback
 * moves the alias right after it has recorded the move, and a failed alias
 * move never fails or undoes it (it is logged). Nothing is lost: the
 * reconciler's pass moves the alias onto the serving record's live run on
 * every pass (markServing writes nothing when it is there already), which
 * also covers a rollback made from the CLI, whose process opens no registry.
 */
import type { RunDocument } from '../domain/run-document.js';
import { toRecdeployError } from '../errors.js';
import type { ChainDeps } from './chain-deps.js';

/** The deps that move the alias; traffic-only callers (the CLI's rollback) have no registry. */
export type AliasDeps = Pick<ChainDeps, 'logger'> & Partial<Pick<ChainDeps, 'registry'>>;

/**
 * Moves `live` onto the version of `run`, which now serves all traffic;
 * logs instead of throwing (the reconciler retries).
 */
export async function markServingRun(deps: AliasDeps, run: RunDocument | undefined): Promise<void> {
  if (deps.registry === undefined || run?.registry === undefined) return;
  try {
    await deps.registry.markServing(run.registry);
  } catch (error) {
    const failure = toRecdeployError(error);
    deps.logger.warn('registry: the live alias was not moved; the reconciler moves it next pass', {
      runId: run.runId,
      model: run.registry.model,
      version: run.registry.version,
      code: failure.code,
      error: failure.message,
    });
  }
}

/**
 * The reconciler's half: `live` onto the version of the run the serving
 * record names live for `service`. Throws, so the pass reports what it could
 * not do.
 */
export async function convergeServingAlias(
  deps: AliasDeps & Pick<ChainDeps, 'runStore'>,
  service: string,
): Promise<void> {
  if (deps.registry === undefined) return;
  const record = await deps.runStore.getServingRecord(service);
  if (record?.liveRunId === undefined) return;
  const run = await deps.runStore.getRun(record.liveRunId);
  if (run?.registry === undefined || run.status !== 'live') return;
  await deps.registry.markServing(run.registry);
}
