/**
 * `recdeploy logs`: the local stack's log file (`{dataDir}/logs/stack.log`,
 * JSON lines from the functions, adapters, reconciler and bus) printed
 * readably: time, level, service, message, run id. --follow keeps printing
 * what is written (across a rotation to stack.log.1); --json prints the raw
 * lines that pass the filters.
 *
 * Exit codes: 0 printed (with --follow: until Ctrl-C); 1 no log file yet;
 * 2 bad arguments.
 */
import fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { CliIo } from '../cli-io.js';
import { resolveDataDir } from '../data-dir.js';
import {
  formatLogEntry,
  LOG_LEVELS,
  matchesFilter,
  parseLogLine,
  parseSince,
  type LogFilter,
  type LogLevelName,
} from '../output/log-entry-line.js';
import { stackLogFile } from '../stack/stack-log.js';

interface LogsFlags {
  dataDir?: string;
  follow?: boolean;
  since?: Date;
  level?: LogLevelName;
  run?: string;
  json?: boolean;
}

/** How often --follow looks for new lines. */
const FOLLOW_POLL_MS = 250;

export function registerLogs(program: Command, io: CliIo): void {
  program
    .command('logs')
    .description("print the local stack's log (functions, adapters, reconciler, bus)")
    .option(
      '--data-dir <dir>',
      "the local stack's data directory (default: $RECDEPLOY_DATA_DIR, else the nearest .recdeploy/ at or above the current directory, else ./.recdeploy)",
    )
    .option('-f, --follow', 'keep printing lines as they are written, until Ctrl-C')
    .option(
      '--since <when>',
      'only lines from this long ago (30s, 10m, 2h, 1d) or this time',
      since,
    )
    .addOption(
      new Option('--level <level>', 'only lines at this level or above').choices(LOG_LEVELS),
    )
    .option('--run <id>', 'only lines about this run')
    .option('--json', 'print the raw JSON lines')
    .addHelpText(
      'after',
      `
Exit codes: 0 printed (with --follow: until Ctrl-C); 1 no log file yet (the stack has not
logged in this data directory); 2 bad arguments.`,
    )
    .action(async (flags: LogsFlags) => {
      const dataDir = resolveDataDir({ flag: flags.dataDir }).dir;
      const file = stackLogFile(dataDir);
      const filter: LogFilter = {
        ...(flags.since === undefined ? {} : { since: flags.since }),
        ...(flags.level === undefined ? {} : { level: flags.level }),
        ...(flags.run === undefined ? {} : { runId: flags.run }),
      };
      const print = (line: string): void => {
        if (line.trim() === '') return;
        const entry = parseLogLine(line);
        if (!matchesFilter(entry, filter)) return;
        io.out(flags.json ? line : formatLogEntry(entry));
      };
      if (!fs.existsSync(file) && !flags.follow) {
        throw new Error(
          `no log yet in ${dataDir}: ${file} is written once a stack has run there (recdeploy start); --data-dir names another directory`,
        );
      }
      for (const older of [`${file}.1`, file]) readLines(older, 0).lines.forEach(print);
      if (!flags.follow) return;
      if (!fs.existsSync(file)) io.err(`no log yet in ${dataDir}; waiting for ${file}`);
      await follow(file, print);
    });
}

function since(value: string): Date {
  const at = parseSince(value);
  if (at === undefined) {
    throw new InvalidArgumentError(
      `expected a duration (30s, 10m, 2h, 1d) or a date and time, got "${value}".`,
    );
  }
  return at;
}

/** Complete lines of `file` from byte `offset`, and where the next read starts. */
function readLines(file: string, offset: number): { lines: string[]; next: number } {
  let text: string;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      if (size <= offset) return { lines: [], next: offset };
      const buffer = Buffer.alloc(size - offset);
      fs.readSync(fd, buffer, 0, buffer.length, offset);
      text = buffer.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { lines: [], next: offset };
  }
  // A line still being written is left for the next read.
  const end = text.lastIndexOf('\n') + 1;
  return {
    lines: text.slice(0, end).split('\n').slice(0, -1),
    next: offset + Buffer.byteLength(text.slice(0, end)),
  };
}

/**
 * Prints what is appended to `file` until SIGINT/SIGTERM. A rotation (the
 * file renamed to .1 and a new one begun) shows as a new inode or a shorter
 * file: the rest of the old one is read from .1, then the new one from its start.
 */
async function follow(file: string, print: (line: string) => void): Promise<void> {
  let inode = inodeOf(file);
  let offset = inode === undefined ? 0 : fs.statSync(file).size;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const now = inodeOf(file);
      if (now !== inode) {
        if (inode !== undefined) readLines(`${file}.1`, offset).lines.forEach(print);
        inode = now;
        offset = 0;
      }
      const read = readLines(file, offset);
      read.lines.forEach(print);
      offset = read.next;
    }, FOLLOW_POLL_MS);
    const stop = (): void => {
      clearInterval(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function inodeOf(file: string): number | undefined {
  try {
    return fs.statSync(file).ino;
  } catch {
    return undefined;
  }
}
