/**
 * The local stack's logs go to `{dataDir}/logs/stack.log` (JSON lines; the
 * functions, adapters, reconciler and bus log there through LOG_FILE, and
 * whatever a library prints with console.* is written there as a line of its
 * own), and the terminal gets friendly text only: a warning or an error
 * becomes at most one short line, and harmless ones (a step busy with another
 * attempt, a delivery the bus will retry) none. `recdeploy logs` reads the file.
 */
import path from 'node:path';
import { format } from 'node:util';
import { logFileDestination, type LogFileDestination } from '@recdeploy/shared';
import { parseLogLine } from '../output/log-entry-line.js';

export const STACK_LOG = path.join('logs', 'stack.log');

export function stackLogFile(dataDir: string): string {
  return path.join(dataDir, STACK_LOG);
}

export interface StackLogRouting {
  readonly file: string;
  /** From now on warnings are written to the file only (the stack is stopping). */
  mute(): void;
  /** Puts console.* back and stops telling warnings. */
  restore(): void;
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;
const CONSOLE_SEVERITY: Record<(typeof CONSOLE_METHODS)[number], string> = {
  log: 'INFO',
  info: 'INFO',
  warn: 'WARNING',
  error: 'WARNING',
  debug: 'DEBUG',
};

/**
 * Sends console.* of this process to the log file and tells the warnings
 * and errors of the stack's loggers (those writing to the same file) as one
 * short line each through `tell`.
 */
export function routeStackLogs(dataDir: string, tell: (line: string) => void): StackLogRouting {
  const file = stackLogFile(dataDir);
  const destination = logFileDestination(file);
  let muted = false;
  let hinted = false;
  const unsubscribe = destination.onLine((line) => {
    if (muted) return;
    const short = friendlyLine(line);
    if (short === undefined) return;
    tell(hinted ? short : `${short} (details: recdeploy logs --level warn)`);
    hinted = true;
  });
  // Kept to be put back as they were (unbound: console's methods do not depend on `this`).
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const originals = CONSOLE_METHODS.map((method) => [method, console[method]] as const);
  for (const method of CONSOLE_METHODS) {
    // The functions-framework prints a failed delivery's stack trace with console.error.
    console[method] = (...args: unknown[]) => writeConsoleLine(destination, method, args);
  }
  return {
    file,
    mute: () => (muted = true),
    restore() {
      unsubscribe();
      for (const [method, original] of originals) console[method] = original;
    },
  };
}

function writeConsoleLine(
  destination: LogFileDestination,
  method: (typeof CONSOLE_METHODS)[number],
  args: unknown[],
): void {
  const entry = {
    severity: CONSOLE_SEVERITY[method],
    timestamp: new Date().toISOString(),
    service: 'console',
    message: format(...args),
  };
  destination.write(`${JSON.stringify(entry)}\n`);
}

/** Codes of failures that only mean "later": the bus redelivers and the step goes on. */
const HARMLESS_CODES = new Set(['RUN.STEP_BUSY']);
const HARMLESS_MESSAGES = new Set(['event bus: delivery failed; will retry']);
/** Warnings the stack tells in a line of its own (stack-reconciler.ts), so not twice. */
const TOLD_BY_THE_STACK = new Set(['freshness: breached']);
const MAX_LINE = 200;

/**
 * The terminal's line for one JSON log line: undefined below WARNING, for
 * console output (already told by the logger line that goes with it), for
 * harmless warnings, and for those the stack tells in its own words.
 */
export function friendlyLine(jsonLine: string): string | undefined {
  if (!/"severity":"(WARNING|ERROR|CRITICAL|ALERT|EMERGENCY)"/.test(jsonLine)) return undefined;
  const entry = parseLogLine(jsonLine.trimEnd());
  if ((entry.level !== 'warn' && entry.level !== 'error') || entry.service === 'console') {
    return undefined;
  }
  if (
    HARMLESS_MESSAGES.has(entry.message) ||
    TOLD_BY_THE_STACK.has(entry.message) ||
    HARMLESS_CODES.has(codeOf(jsonLine))
  ) {
    return undefined;
  }
  const run = entry.runId === undefined ? '' : ` (run ${entry.runId})`;
  const detail = entry.detail === undefined ? '' : `: ${entry.detail}`;
  const level = entry.level === 'warn' ? 'warning' : 'error';
  const service = entry.service === '?' ? 'stack' : entry.service;
  const line = `${level}: ${service}: ${entry.message}${run}${detail}`;
  return line.length > MAX_LINE ? `${line.slice(0, MAX_LINE - 1)}…` : line;
}

function codeOf(jsonLine: string): string {
  try {
    const code = (JSON.parse(jsonLine) as { code?: unknown }).code;
    return typeof code === 'string' ? code : '';
  } catch {
    return '';
  }
}
