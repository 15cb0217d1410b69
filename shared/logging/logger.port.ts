/** Structured metadata attached to one log line. */
export type LogMeta = Readonly<Record<string, unknown>>;

/**
 * The logging port every module logs through (never `console`). Adapters:
 * the Cloud Logging JSON-lines logger and a recording logger for tests.
 */
export interface Logger {
  debug(message: string, meta?: LogMeta): void;
  info(message: string, meta?: LogMeta): void;
  warn(message: string, meta?: LogMeta): void;
  error(message: string, meta?: LogMeta): void;
  /** A logger whose every line also carries `bindings` (event id, run id, trace). */
  child(bindings: LogMeta): Logger;
}
