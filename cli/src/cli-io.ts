/**
 * Where a command writes: results to stdout (what scripts read), progress and
 * errors to stderr (what people watch). Injected so tests can capture both.
 */
export interface CliIo {
  /** One line of result output. */
  out(line: string): void;
  /** One line of progress or diagnostics. */
  err(line: string): void;
}

/** The process's own streams. */
export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
