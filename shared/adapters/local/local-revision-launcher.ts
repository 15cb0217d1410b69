import { PermanentError, TransientError, truncateText } from '../../errors.js';
import type { Logger } from '../../logging/logger.port.js';
import type { RevisionSpec } from '../../ports/serving-platform.port.js';
import { appendLogLine, explainLogTail, logSize } from './local-revision-log.js';
import { RevisionProcess } from './local-revision-process.js';
import { waitUntilAvailable } from './local-revision-readiness.js';
import type { ServingCommand } from './local-serving-command.js';

/** Longest error message kept (it ends up in a run document). */
const MAX_MESSAGE_CHARS = 4_000;

/**
 * Variables that configure the server: a revision takes them from its spec
 * only (as a Cloud Run container does), never from the platform's own
 * environment, so a MODEL_PATH or SERVING_MODE set for the platform process
 * cannot leak into every revision.
 */
const SERVING_VARIABLES = [
  'MODEL_PATH',
  'MODEL_NAME',
  'MODEL_VERSION',
  'PORT',
  'HOST',
  'SERVING_MODE',
  'BATCH_MAX_SIZE',
  'BATCH_TIMEOUT_MICROS',
  'BATCH_MAX_ENQUEUED',
  'MAX_INSTANCES',
  'MAX_K',
  'BODY_LIMIT_BYTES',
  'SHUTDOWN_TIMEOUT_MS',
  'MODEL_CACHE_DIR',
  'LOG_LEVEL',
];

export interface RevisionLaunchRequest {
  readonly spec: RevisionSpec;
  readonly host: string;
  readonly port: number;
  readonly logFile: string;
  readonly command: ServingCommand;
  readonly readyTimeoutMs: number;
  readonly pollIntervalMs: number;
  readonly stopTimeoutMs: number;
  readonly logger: Logger;
  /** Records the process as soon as it exists (before the wait), so close() can stop it. */
  readonly onSpawned: (process: RevisionProcess) => void;
  readonly cancelled: () => boolean;
}

/**
 * Starts services/ann-serving for a revision on its port and waits until its
 * startup probe reports the model AVAILABLE.
 * @throws PermanentError `PLATFORM.REVISION_FAILED` (with the server's own
 *   error from its log) when it cannot start, exits, or is not ready in time
 *   (it is then stopped); TransientError when the platform closes meanwhile.
 */
export async function launchRevision(request: RevisionLaunchRequest): Promise<RevisionProcess> {
  const { spec, host, port, logFile, logger } = request;
  const env = revisionEnv(spec, host, port);
  if (spec.runtime === 'tf-serving') {
    logger.warn(
      'TF Serving has no local binary: the revision is served by services/ann-serving in exact (brute-force) mode, which speaks the same REST API',
      { service: spec.service, revision: spec.revision, runtime: spec.runtime },
    );
  }
  const offset = logSize(logFile);
  appendLogLine(logFile, 'recdeploy: starting revision', {
    service: spec.service,
    revision: spec.revision,
    runtime: spec.runtime,
    port,
    servingMode: env.SERVING_MODE ?? 'ann',
  });
  const failed = (reason: string, cause?: unknown) => {
    // A process that never ran wrote nothing worth quoting.
    const log =
      cause === undefined
        ? `; its log ${logFile} says:\n${explainLogTail(logFile, offset)}`
        : ` (log: ${logFile})`;
    return new PermanentError(
      'PLATFORM.REVISION_FAILED',
      truncateText(
        `revision ${spec.revision} of service ${spec.service} ${reason}${log}`,
        MAX_MESSAGE_CHARS,
      ),
      { cause, metadata: { service: spec.service, revision: spec.revision, port, logFile } },
    );
  };

  let child: RevisionProcess;
  try {
    child = await RevisionProcess.spawn({ command: request.command, env, logFile });
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    throw failed(`could not be started with ${request.command.command}: ${detail}`, error);
  }
  request.onSpawned(child);
  const url = probeUrl(host, port, spec);
  const result = await waitUntilAvailable({
    url,
    timeoutMs: request.readyTimeoutMs,
    intervalMs: request.pollIntervalMs,
    running: () => child.running,
    cancelled: request.cancelled,
  });
  switch (result.outcome) {
    case 'available':
      return child;
    case 'cancelled':
      throw new TransientError(
        'DEPENDENCY.UNAVAILABLE',
        `the local serving platform closed while revision ${spec.revision} of service ${spec.service} was starting`,
      );
    case 'exited':
      throw failed(`${child.describeExit()} before it was ready (pid ${child.pid}, port ${port})`);
    case 'timeout':
      await child.stop(request.stopTimeoutMs);
      throw failed(
        `was not AVAILABLE at ${url} within ${request.readyTimeoutMs} ms (last state: ${result.lastState ?? 'no answer'}) and was stopped`,
      );
  }
}

/** The environment of a revision's process: the spec's variables plus PORT and HOST. */
export function revisionEnv(
  spec: RevisionSpec,
  host: string,
  port: number,
  inherited: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(inherited)) {
    if (value !== undefined && !SERVING_VARIABLES.includes(name)) env[name] = value;
  }
  Object.assign(env, spec.env, { PORT: String(port), HOST: host });
  // The one local substitution (DESIGN.md §2): TF Serving's brute-force route becomes exact mode.
  if (spec.runtime === 'tf-serving') env.SERVING_MODE = 'exact';
  return env;
}

/** `http://host:port` (IPv6 literals in brackets). */
export function baseUrl(host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The startup probe's URL: the model status endpoint the spec names. */
export function probeUrl(host: string, port: number, spec: RevisionSpec): string {
  return `${baseUrl(host, port)}${spec.startupProbePath}`;
}
