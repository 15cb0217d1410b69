/**
 * One JSON log line of the local stack as `recdeploy logs` prints it:
 *   16:52:11.537 INFO  register    registered  run local-sample-sample-run-1
 *   16:52:14.012 WARN  deploy      deploy attempt failed; will retry  run …: RUN.STEP_BUSY
 * (time, level, service, message, run id, and the first line of what went
 * wrong), and the filters the command applies to it.
 */

/** The levels a reader filters by, lowest first, and the Cloud Logging severities in each. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];

const SEVERITY_LEVEL: Readonly<Record<string, LogLevelName>> = {
  DEBUG: 'debug',
  DEFAULT: 'info',
  INFO: 'info',
  NOTICE: 'info',
  WARNING: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
  ALERT: 'error',
  EMERGENCY: 'error',
};

export interface LogEntry {
  readonly raw: string;
  readonly time?: Date;
  readonly level: LogLevelName;
  readonly service: string;
  readonly message: string;
  readonly runId?: string;
  readonly detail?: string;
}

/** Parses one line; a line that is not a JSON object is kept as an info message of its own. */
export function parseLogLine(raw: string): LogEntry {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { raw, level: 'info', service: '?', message: raw };
  }
  if (typeof value !== 'object' || value === null) {
    return { raw, level: 'info', service: '?', message: raw };
  }
  const entry = value as Record<string, unknown>;
  const time = typeof entry.timestamp === 'string' ? new Date(entry.timestamp) : undefined;
  const detail = detailOf(entry);
  return {
    raw,
    ...(time !== undefined && Number.isFinite(time.getTime()) ? { time } : {}),
    level: SEVERITY_LEVEL[String(entry.severity)] ?? 'info',
    service: typeof entry.service === 'string' ? entry.service.replace(/^recdeploy-/, '') : '?',
    message: typeof entry.message === 'string' ? entry.message : '',
    ...(typeof entry.runId === 'string' ? { runId: entry.runId } : {}),
    ...(detail === undefined ? {} : { detail }),
  };
}

export interface LogFilter {
  readonly since?: Date;
  readonly level?: LogLevelName;
  readonly runId?: string;
}

export function matchesFilter(entry: LogEntry, filter: LogFilter): boolean {
  if (
    filter.level !== undefined &&
    LOG_LEVELS.indexOf(entry.level) < LOG_LEVELS.indexOf(filter.level)
  )
    return false;
  if (filter.runId !== undefined && entry.runId !== filter.runId) return false;
  if (filter.since !== undefined && (entry.time === undefined || entry.time < filter.since))
    return false;
  return true;
}

/** The readable line: local date and time, level, service, message, run, detail. */
export function formatLogEntry(entry: LogEntry): string {
  const time = entry.time === undefined ? '-'.padEnd(23) : localTime(entry.time);
  const run = entry.runId === undefined ? '' : `  run ${entry.runId}`;
  const detail = entry.detail === undefined ? '' : `: ${entry.detail}`;
  return `${time} ${entry.level.toUpperCase().padEnd(5)} ${entry.service.padEnd(11)} ${entry.message}${run}${detail}`;
}

function localTime(time: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0');
  const date = `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())}`;
  const clock = `${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`;
  return `${date} ${clock}.${String(time.getMilliseconds()).padStart(3, '0')}`;
}

/** The first line of an error, or its code: never a stack trace. */
function detailOf(entry: Record<string, unknown>): string | undefined {
  for (const key of ['error', 'err']) {
    const value = entry[key];
    if (typeof value === 'string') return value.split('\n')[0];
    if (typeof value === 'object' && value !== null && 'message' in value) {
      return String(value.message).split('\n')[0];
    }
  }
  return typeof entry.code === 'string' ? entry.code : undefined;
}

/**
 * `--since`: a duration back from `now` (30s, 10m, 2h, 1d) or a date and time
 * (2026-12-06T16:00:00Z, anything Date.parse reads). Undefined when unreadable.
 */
export function parseSince(text: string, now: Date = new Date()): Date | undefined {
  const match = /^(\d+)\s*(s|m|h|d)$/.exec(text.trim());
  if (match) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
      match[2] as 's' | 'm' | 'h' | 'd'
    ];
    return new Date(now.getTime() - Number(match[1]) * unit);
  }
  const at = Date.parse(text);
  return Number.isFinite(at) ? new Date(at) : undefined;
}
