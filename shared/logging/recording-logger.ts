import type { LogMeta, Logger } from './logger.port.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** One line a RecordingLogger kept. */
export interface RecordedLog {
  readonly level: LogLevel;
  readonly message: string;
  readonly meta: LogMeta;
}

/** A Logger that keeps every line in memory, for tests to assert on. */
export class RecordingLogger implements Logger {
  readonly lines: RecordedLog[];
  private readonly bindings: LogMeta;

  constructor(lines: RecordedLog[] = [], bindings: LogMeta = {}) {
    this.lines = lines;
    this.bindings = bindings;
  }

  debug(message: string, meta?: LogMeta): void {
    this.record('debug', message, meta);
  }
  info(message: string, meta?: LogMeta): void {
    this.record('info', message, meta);
  }
  warn(message: string, meta?: LogMeta): void {
    this.record('warn', message, meta);
  }
  error(message: string, meta?: LogMeta): void {
    this.record('error', message, meta);
  }

  /** Children share the parent's line list, so one assertion sees everything. */
  child(bindings: LogMeta): Logger {
    return new RecordingLogger(this.lines, { ...this.bindings, ...bindings });
  }

  private record(level: LogLevel, message: string, meta: LogMeta = {}): void {
    this.lines.push({ level, message, meta: { ...this.bindings, ...meta } });
  }
}
