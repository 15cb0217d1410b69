import type { Logger } from '../../logging/logger.port.js';
import type { RuntimeName } from '../../ports/serving-platform.port.js';
import type { ServingCommand } from './local-serving-command.js';
import type { RevisionState } from './local-serving-records.js';

/** How the embedded serving platform is set up, and what it reports (local-process-platform.ts). */

export interface LocalProcessPlatformOptions {
  /** The platform's own SQLite file, e.g. `.recdeploy/serving.db`. */
  readonly file: string;
  /** Revision logs go to `{logsDir}/{service}/{revision}.log`. */
  readonly logsDir: string;
  /** How to start services/ann-serving: see defaultServingCommand(). */
  readonly servingCommand: ServingCommand;
  readonly logger?: Logger;
  /** Loopback address for routers and revisions. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** How long a revision may take to report AVAILABLE. @defaultValue 120 s */
  readonly readyTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace when stopping a revision. @defaultValue 10 s (Cloud Run's) */
  readonly stopTimeoutMs?: number;
  /** Interval of the startup probe. @defaultValue 100 ms */
  readonly readyPollIntervalMs?: number;
}

/** A revision as the platform records it, for a CLI or a test to inspect. */
export interface LocalRevisionStatus {
  readonly service: string;
  readonly revision: string;
  readonly runtime: RuntimeName;
  readonly state: RevisionState;
  readonly port: number;
  readonly tagUrl: string;
  /** The last process started or adopted for it. */
  readonly pid: number | undefined;
  /** Whether that process is alive now. */
  readonly running: boolean;
  readonly logFile: string;
  readonly createdAt: string;
}

/** What start() found: revisions adopted as running, started again, or that failed to start. */
export interface LocalPlatformStartReport {
  readonly adopted: readonly string[];
  readonly restarted: readonly string[];
  readonly failed: readonly { readonly revision: string; readonly error: string }[];
}
