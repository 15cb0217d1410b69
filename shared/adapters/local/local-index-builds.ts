/**
 * IndexBuilds on one machine: each build is a detached child process running
 * the index-build job entrypoint (services/ann-serving/src/index-build-job.ts),
 * the local counterpart of the Cloud Run job. Its state lives in
 * `{dir}/{runId}.json`, so any process (the deploy function after a restart,
 * the CLI) can ask about it.
 *
 * Who writes the status file, in order: the launcher claims it (exclusive
 * create: one build per run), then records the child's pid right after
 * spawning it; the child writes its final state, but only once it sees its
 * own pid in the file, so the launcher's write can never overwrite the
 * outcome.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../logging/logger.port.js';
import type {
  IndexBuildRequest,
  IndexBuildStatus,
  IndexBuilds,
} from '../../ports/index-builds.port.js';
import { isProcessAlive } from './local-revision-process.js';

/** The variable that tells the job where to report its final state. */
export const INDEX_BUILD_STATUS_FILE_ENV = 'RECDEPLOY_STATUS_FILE';

/** How long a finished child waits for the launcher to record its pid before reporting anyway. */
const DEFAULT_PID_WAIT_MS = 10_000;
const PID_POLL_MS = 20;

/** How to run the job entrypoint: the source through tsx, or the compiled dist file. */
export interface IndexBuildCommand {
  readonly command: string;
  readonly args: readonly string[];
  /** Working directory (module resolution of `--import tsx` starts there). */
  readonly cwd?: string;
}

const BUILT_JOB = 'services/ann-serving/dist/src/index-build-job.js';
const SOURCE_JOB = 'services/ann-serving/src/index-build-job.ts';

/**
 * Runs the compiled job (`npm run build`) when it exists, as the container
 * does; otherwise the TypeScript source through tsx.
 */
export function defaultIndexBuildCommand(repoRoot: string): IndexBuildCommand {
  const built = path.join(repoRoot, BUILT_JOB);
  if (fs.existsSync(built)) return { command: process.execPath, args: [built], cwd: repoRoot };
  return {
    command: process.execPath,
    args: ['--conditions=source', '--import', 'tsx', path.join(repoRoot, SOURCE_JOB)],
    cwd: repoRoot,
  };
}

export interface LocalIndexBuildsOptions {
  /** Status and log files, e.g. `.recdeploy/index-builds` (created if missing). */
  readonly dir: string;
  readonly logger: Logger;
  readonly command: IndexBuildCommand;
  /**
   * The child's whole environment besides the build's own variables
   * (RECDEPLOY_RUN_ID, ARTIFACT_URI, NOTIFY_TOPIC, NOTIFY_MESSAGE,
   * RECDEPLOY_STATUS_FILE): e.g. PATH, RECDEPLOY_DATA_DIR, ARTIFACT_ROOTS.
   * Nothing is inherited, so the wiring states exactly what the job sees.
   */
  readonly env: Readonly<Record<string, string>>;
}

/** The content of `{dir}/{runId}.json`. */
export interface LocalIndexBuildRecord {
  readonly runId: string;
  readonly artifactUri: string;
  readonly state: 'running' | 'succeeded' | 'failed';
  /** The process that claimed the build; it answers for it until `pid` is recorded. */
  readonly launcherPid: number;
  /** The build process. */
  readonly pid?: number;
  readonly logFile: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly error?: string;
}

/** See the module comment. */
export class LocalIndexBuilds implements IndexBuilds {
  private readonly dir: string;
  private readonly logger: Logger;

  constructor(private readonly options: LocalIndexBuildsOptions) {
    this.dir = path.resolve(options.dir);
    this.logger = options.logger;
  }

  async start(request: IndexBuildRequest): Promise<IndexBuildStatus> {
    const file = this.statusFile(request.runId);
    if (await readRecord(file)) return this.status(request.runId);
    await fsp.mkdir(this.dir, { recursive: true });
    const claim: LocalIndexBuildRecord = {
      runId: request.runId,
      artifactUri: request.artifactUri,
      state: 'running',
      launcherPid: process.pid,
      logFile: file.replace(/\.json$/, '.log'),
      startedAt: now(),
    };
    if (!(await createExclusive(file, claim))) return this.status(request.runId);
    const spawned = await this.spawnJob(request, claim.logFile, file);
    if ('error' in spawned) {
      const failed = { ...claim, state: 'failed' as const, endedAt: now(), error: spawned.error };
      await writeRecord(file, failed);
      this.logger.error('index build could not start', {
        runId: request.runId,
        error: spawned.error,
      });
      return toStatus(failed);
    }
    const { child, pid } = spawned;
    child.on('error', (error) =>
      this.logger.warn('index build process error', { runId: request.runId, error: String(error) }),
    );
    child.unref();
    await writeRecord(file, { ...claim, pid });
    this.logger.info('index build started', {
      runId: request.runId,
      pid,
      artifactUri: request.artifactUri,
      logFile: claim.logFile,
    });
    return { state: 'running', execution: String(pid) };
  }

  async status(runId: string): Promise<IndexBuildStatus> {
    const file = this.statusFile(runId);
    const record = await readRecord(file);
    if (record === undefined) return { state: 'not_found' };
    if ('problem' in record) return { state: 'failed', error: record.problem };
    if (record.state !== 'running' || isProcessAlive(record.pid ?? record.launcherPid)) {
      return toStatus(record);
    }
    // It may have written just before exiting (the child its outcome, the launcher the child's
    // pid): read again, now that it cannot write any more.
    const latest = await readRecord(file);
    if (
      latest === undefined ||
      'problem' in latest ||
      latest.state !== 'running' ||
      latest.pid !== record.pid
    ) {
      return this.status(runId);
    }
    // Recorded, so a later reuse of the pid by another process cannot revive the build.
    const failed: LocalIndexBuildRecord = {
      ...latest,
      state: 'failed',
      endedAt: now(),
      error:
        latest.pid === undefined
          ? `the process that started the build (pid ${latest.launcherPid}) exited before spawning it`
          : `index build process ${latest.pid} exited without reporting; see ${latest.logFile}`,
    };
    await writeRecord(file, failed);
    this.logger.warn('index build process is gone', { runId, error: failed.error });
    return toStatus(failed);
  }

  /**
   * Builds keep running: a build that has started finishes on its own and
   * publishes its notification, which is what the deploy step waits for;
   * killing it on close would strand the run.
   */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The status file of a run; the run id is encoded so it cannot name another path. */
  statusFile(runId: string): string {
    return path.join(this.dir, `${encodeURIComponent(runId)}.json`);
  }

  /** Spawns the job detached, its output appended to `logFile`; or says why it could not. */
  private async spawnJob(
    request: IndexBuildRequest,
    logFile: string,
    statusFile: string,
  ): Promise<{ child: ChildProcess; pid: number } | { error: string }> {
    const { command, args, cwd } = this.options.command;
    const log = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(command, [...args], {
        ...(cwd === undefined ? {} : { cwd }),
        detached: true,
        stdio: ['ignore', log, log],
        env: {
          ...this.options.env,
          RECDEPLOY_RUN_ID: request.runId,
          ARTIFACT_URI: request.artifactUri,
          NOTIFY_TOPIC: request.notify.topic,
          NOTIFY_MESSAGE: JSON.stringify(request.notify.message),
          [INDEX_BUILD_STATUS_FILE_ENV]: statusFile,
        },
      });
    } catch (error) {
      return { error: `cannot run ${command}: ${String(error)}` };
    } finally {
      fs.closeSync(log);
    }
    // A command that cannot be executed leaves pid undefined and emits 'error' next.
    if (child.pid === undefined) {
      const [error] = (await once(child, 'error')) as [Error];
      return { error: `cannot run ${command}: ${error.message}` };
    }
    return { child, pid: child.pid };
  }
}

/** The job's final state, as it reports it. */
export interface IndexBuildOutcome {
  readonly runId: string;
  readonly artifactUri: string;
  readonly state: 'succeeded' | 'failed';
  readonly error?: string;
}

/**
 * Called by the job when it ends: waits until the launcher has recorded this
 * process's pid (at most `pidWaitMs`, default 10 s: a launcher that died never
 * will), then writes the final state into the status file.
 */
export async function reportIndexBuildOutcome(
  file: string,
  outcome: IndexBuildOutcome,
  options: { readonly pidWaitMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (options.pidWaitMs ?? DEFAULT_PID_WAIT_MS);
  let record = await readRecord(file);
  while (!(record && 'runId' in record && record.pid === process.pid) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, PID_POLL_MS));
    record = await readRecord(file);
  }
  const base: LocalIndexBuildRecord =
    record && 'runId' in record
      ? record
      : {
          ...outcome,
          launcherPid: process.pid,
          logFile: file.replace(/\.json$/, '.log'),
          startedAt: now(),
        };
  await writeRecord(file, {
    ...base,
    pid: process.pid,
    state: outcome.state,
    endedAt: now(),
    error: outcome.error,
  });
}

function toStatus(record: LocalIndexBuildRecord): IndexBuildStatus {
  return {
    state: record.state,
    ...(record.pid === undefined ? {} : { execution: String(record.pid) }),
    ...(record.error === undefined ? {} : { error: record.error }),
  };
}

/** The record, `{problem}` when the file is not one, or undefined when there is no file. */
async function readRecord(
  file: string,
): Promise<LocalIndexBuildRecord | { readonly problem: string } | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LocalIndexBuildRecord> | null;
    const states: unknown[] = ['running', 'succeeded', 'failed'];
    if (typeof value?.runId === 'string' && states.includes(value.state)) {
      return value as LocalIndexBuildRecord;
    }
  } catch {
    // reported below
  }
  return {
    problem: `index build status file ${file} is not a build record: ${text.slice(0, 200)}`,
  };
}

/** Writes through a temporary file and rename, so readers never see half a record. */
async function writeRecord(file: string, record: LocalIndexBuildRecord): Promise<void> {
  const temporary = temporaryName(file);
  await fsp.writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  await fsp.rename(temporary, file);
}

/** Creates `file` with `record` unless it exists (link(2) fails on an existing name). */
async function createExclusive(file: string, record: LocalIndexBuildRecord): Promise<boolean> {
  const temporary = temporaryName(file);
  await fsp.writeFile(temporary, `${JSON.stringify(record, null, 2)}\n`);
  try {
    await fsp.link(temporary, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await fsp.rm(temporary, { force: true });
  }
}

function temporaryName(file: string): string {
  return `${file}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
}

function now(): string {
  return new Date().toISOString();
}
