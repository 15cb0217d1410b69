import pino from 'pino';
import { logFileDestination } from './log-file.js';
import type { LogMeta, Logger } from './logger.port.js';

export { LOG_FILE_MAX_BYTES, logFileDestination, type LogFileDestination } from './log-file.js';

/**
 * Where JSON lines go: a standard stream, or a file (LOG_FILE: the local
 * stack's `{dataDir}/logs/stack.log`, whose terminal is for people).
 */
export type LogStream = 'stdout' | 'stderr' | { readonly file: string };

/** pino level → Cloud Logging `severity` (https://cloud.google.com/logging/docs/structured-logging). */
const SEVERITY: Readonly<Record<string, string>> = {
  trace: 'DEBUG',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARNING',
  error: 'ERROR',
  fatal: 'CRITICAL',
};

export interface CloudLoggerOptions {
  /** Lowest level written; default 'info'. */
  readonly level?: 'debug' | 'info' | 'warn' | 'error';
  /** Where JSON lines go; default stdout (what Cloud Run and Cloud Functions collect). */
  readonly destination?: pino.DestinationStream;
  /** stdout (default), stderr or a file, when no destination is given. */
  readonly stream?: LogStream;
  /** Fields on every line, e.g. `{ service: 'register' }`. */
  readonly base?: LogMeta;
}

/**
 * A Logger writing one JSON object per line in Cloud Logging's structured
 * format: `severity`, `message`, `timestamp`, and whatever correlation fields
 * (`logging.googleapis.com/trace`, run id, event id) the bindings carry.
 * pino does the serialising: it is fast, asynchronous-safe and handles
 * circular values and Error objects (`err`/`error` keys) for us.
 */
export function createCloudLogger(options: CloudLoggerOptions = {}): Logger {
  const instance = pino(
    {
      level: options.level ?? 'info',
      messageKey: 'message',
      base: options.base ? { ...options.base } : null,
      timestamp: () => `,"timestamp":"${new Date().toISOString()}"`,
      formatters: { level: (label) => ({ severity: SEVERITY[label] ?? 'DEFAULT' }) },
      serializers: {
        err: pino.stdSerializers.errWithCause,
        error: pino.stdSerializers.errWithCause,
      },
    },
    options.destination ?? destinationOf(options.stream),
  );
  return new PinoLogger(instance);
}

function destinationOf(stream: LogStream | undefined): pino.DestinationStream {
  if (typeof stream === 'object') return logFileDestination(stream.file);
  return pino.destination({ dest: stream === 'stderr' ? 2 : 1, sync: true });
}

class PinoLogger implements Logger {
  constructor(private readonly instance: pino.Logger) {}

  debug(message: string, meta?: LogMeta): void {
    this.instance.debug(meta ?? {}, message);
  }
  info(message: string, meta?: LogMeta): void {
    this.instance.info(meta ?? {}, message);
  }
  warn(message: string, meta?: LogMeta): void {
    this.instance.warn(meta ?? {}, message);
  }
  error(message: string, meta?: LogMeta): void {
    this.instance.error(meta ?? {}, message);
  }
  child(bindings: LogMeta): Logger {
    return new PinoLogger(this.instance.child(bindings));
  }
}
