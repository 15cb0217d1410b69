/**
 * `-o, --output table|json|yaml` as kubectl users expect it, with `--json`
 * kept as the short form of `-o json`. json and yaml print one document on
 * stdout for scripts (progress and errors stay on stderr); table is the
 * text a person reads.
 */
import { Option, type Command } from 'commander';
import YAML from 'yaml';
import type { CliIo } from '../cli-io.js';
import { printJson } from './json.js';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The flags as commander parses them. */
export interface OutputFlags {
  output?: OutputFormat;
  json?: boolean;
}

/** Adds -o/--output and --json to `command`; `document` names what json and yaml print. */
export function addOutputOptions(command: Command, document: string): Command {
  return command
    .addOption(
      new Option('-o, --output <format>', `table for people; json or yaml print ${document}`)
        .choices(OUTPUT_FORMATS)
        .default('table'),
    )
    .addOption(new Option('--json', 'the same as -o json').conflicts('output'));
}

/** The format the flags ask for. */
export function outputFormat(flags: OutputFlags): OutputFormat {
  return flags.json ? 'json' : (flags.output ?? 'table');
}

/** Prints `value` as one JSON or YAML document. */
export function printDocument(io: CliIo, format: 'json' | 'yaml', value: unknown): void {
  if (format === 'json') printJson(io, value);
  else io.out(YAML.stringify(value).trimEnd());
}
