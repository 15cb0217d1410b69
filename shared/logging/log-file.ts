/**
 * A JSON-lines log file (LOG_FILE; the local stack's `{dataDir}/logs/stack.log`):
 * appended to, and kept under a size cap by renaming it to `<file>.1` (the
 * previous `.1` is dropped), so a stack that runs for weeks never fills the
 * disk. Every logger of a process that names the same file shares one
 * destination (so a rotation is seen by all of them), and a listener in the
 * same process can watch the lines go by (the stack prints a short line for
 * a warning that matters).
 */
import fs from 'node:fs';
import path from 'node:path';

/** Default cap: the file is rotated once it would grow past this many bytes. */
export const LOG_FILE_MAX_BYTES = 5 * 1024 * 1024;

/** One JSON line as written, before it reaches the file. */
export type LogLineListener = (line: string) => void;

/** What pino needs of a destination, plus the listeners. */
export interface LogFileDestination {
  readonly file: string;
  write(chunk: string): void;
  /** Calls `listener` with every line written after the call; returns the unsubscribe. */
  onLine(listener: LogLineListener): () => void;
}

class RotatingLogFile implements LogFileDestination {
  private fd: number | undefined;
  private size = 0;
  private readonly listeners = new Set<LogLineListener>();

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
  ) {}

  write(chunk: string): void {
    for (const listener of this.listeners) {
      try {
        listener(chunk);
      } catch {
        // A listener's failure must never lose the line or crash the logger.
      }
    }
    try {
      const bytes = Buffer.byteLength(chunk);
      if (this.fd !== undefined && this.size + bytes > this.maxBytes) this.rotate();
      this.fd ??= this.open();
      fs.writeSync(this.fd, chunk);
      this.size += bytes;
    } catch {
      // Logging never takes a process down (disk full, directory removed):
      // the line is lost, and the next write tries to open the file again.
      this.close();
    }
  }

  onLine(listener: LogLineListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private open(): number {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const fd = fs.openSync(this.file, 'a');
    this.size = fs.fstatSync(fd).size;
    if (this.size >= this.maxBytes) {
      fs.closeSync(fd);
      this.fd = undefined;
      fs.renameSync(this.file, `${this.file}.1`);
      this.size = 0;
      return fs.openSync(this.file, 'a');
    }
    return fd;
  }

  private rotate(): void {
    this.close();
    fs.renameSync(this.file, `${this.file}.1`);
  }

  private close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // Already closed.
    }
    this.fd = undefined;
  }
}

/**
 * One destination per file and process, kept on globalThis so two copies of
 * this module (source and built, in one process) still share it.
 */
const REGISTRY = Symbol.for('recdeploy.log-files');
type Registry = Map<string, LogFileDestination>;

function registry(): Registry {
  const holder = globalThis as { [REGISTRY]?: Registry };
  holder[REGISTRY] ??= new Map();
  return holder[REGISTRY];
}

/** The shared destination of `file` (created on first use; the file on first write). */
export function logFileDestination(
  file: string,
  maxBytes: number = LOG_FILE_MAX_BYTES,
): LogFileDestination {
  const key = path.resolve(file);
  const known = registry().get(key);
  if (known !== undefined) return known;
  const created = new RotatingLogFile(key, maxBytes);
  registry().set(key, created);
  return created;
}
