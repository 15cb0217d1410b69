import fs from 'node:fs';
import path from 'node:path';

/** Bytes read from the end of a log to explain a failure. */
const TAIL_BYTES = 64 * 1024;
/** Lines quoted in an error message. */
const TAIL_LINES = 6;

/** `{logsDir}/{service}/{revision}.log`, its folder created. */
export function revisionLogFile(logsDir: string, service: string, revision: string): string {
  const dir = path.join(logsDir, service);
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${revision}.log`);
}

/** The log's size now: where the output of a process started next begins. */
export function logSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Appends one line in the server's own JSON-lines format, so the log says
 * where each start of the revision begins and with what.
 */
export function appendLogLine(file: string, message: string, fields: Record<string, unknown>) {
  const line = { severity: 'INFO', timestamp: new Date().toISOString(), ...fields, message };
  fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
}

interface LogLine {
  readonly severity?: unknown;
  readonly message?: unknown;
  readonly err?: { readonly message?: unknown };
}

/**
 * What went wrong, from the output written since `fromOffset`: the server's
 * warnings and errors (its JSON lines give `message: err.message`) and any
 * plain text (a crash before its logger started); the last lines of output
 * when there is neither.
 */
export function explainLogTail(file: string, fromOffset: number): string {
  const lines = readFrom(file, fromOffset)
    .split('\n')
    .filter((line) => line.trim() !== '');
  const problems = lines.map(problemIn).filter((text): text is string => text !== undefined);
  const chosen = (problems.length > 0 ? problems : lines).slice(-TAIL_LINES);
  return chosen.length > 0 ? chosen.join('\n') : '(the server wrote nothing)';
}

function problemIn(line: string): string | undefined {
  let entry: LogLine;
  try {
    entry = JSON.parse(line) as LogLine;
  } catch {
    return line;
  }
  if (typeof entry !== 'object' || entry === null) return line;
  const severity = typeof entry.severity === 'string' ? entry.severity : 'DEFAULT';
  if (!['WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'].includes(severity)) return undefined;
  const message = typeof entry.message === 'string' ? entry.message : line;
  const cause = typeof entry.err?.message === 'string' ? `: ${entry.err.message}` : '';
  return `${severity} ${message}${cause}`;
}

function readFrom(file: string, fromOffset: number): string {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return '';
  }
  try {
    const size = fs.fstatSync(fd).size;
    const start = Math.max(fromOffset, size - TAIL_BYTES);
    const buffer = Buffer.alloc(Math.max(0, size - start));
    fs.readSync(fd, buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
}
