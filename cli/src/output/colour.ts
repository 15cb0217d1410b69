/**
 * Colour for run statuses, only where a person reads them: on a terminal.
 *
 * picocolors alone is not enough: it turns colour on for any output when CI
 * is set (so a CI job's pipe into a file would get escape codes) and for
 * FORCE_COLOR=0. So the decision is made here, the usual way (no-color.org,
 * and FORCE_COLOR as chalk reads it), and picocolors only paints:
 * NO_COLOR set and not empty → never; FORCE_COLOR set and not 0/false →
 * always; else only when stdout is a TTY and TERM is not "dumb".
 */
import picocolors from 'picocolors';
import type { RunStatus } from '@recdeploy/shared';
import { processIo, type CliIo } from '../cli-io.js';

/** Paints a status word (or anything named after one). */
export type StatusPaint = (status: RunStatus, text?: string) => string;

/** No colour at all: what tables get unless a terminal reads them. */
export const plain: StatusPaint = (status, text) => text ?? status;

/** Whether output with these variables on a stream with this TTY-ness gets colour. */
export function colourWanted(
  env: Readonly<Record<string, string | undefined>>,
  isTTY: boolean,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '') return !['0', 'false'].includes(force.toLowerCase());
  return isTTY && env.TERM !== 'dumb';
}

/** A painter with colour on or off. */
export function statusPaint(enabled: boolean): StatusPaint {
  if (!enabled) return plain;
  const c = picocolors.createColors(true);
  const byStatus: Partial<Record<RunStatus, (text: string) => string>> = {
    live: c.green,
    failed: c.red,
    rolled_back: c.red,
    canary: c.yellow,
    verifying: c.yellow,
    replaced: c.dim,
    skipped: c.dim,
  };
  return (status, text = status) => byStatus[status]?.(text) ?? text;
}

/**
 * The painter for a command's stdout: colour only when it is the process's
 * own stdout (never for output captured through another CliIo) and wanted.
 */
export function stdoutPaint(
  io: CliIo,
  env: Readonly<Record<string, string | undefined>> = process.env,
): StatusPaint {
  return statusPaint(io === processIo && colourWanted(env, process.stdout.isTTY === true));
}
