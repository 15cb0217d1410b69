/**
 * `--json` output: exactly one JSON document on stdout, so a script can pipe
 * it into `jq` or `JSON.parse` it; progress and errors go to stderr.
 */
import type { CliIo } from '../cli-io.js';

/** Prints `value` as one pretty-printed JSON document. */
export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}
