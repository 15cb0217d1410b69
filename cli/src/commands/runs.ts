/**
 * `recdeploy runs`: the runs of the local stack (or of Firestore with
 * --project), newest first, as a table or, with --json, as the documents.
 * The table's TRAFFIC column comes from the serving records (what the
 * platform observes serving), read once for the whole table; a run in
 * `canary` notes its step and any operator request still to be carried out.
 * Exit codes: 0 listed (an empty list too), 1 the store could not be read,
 * 2 bad arguments.
 */
import { Option, type Command } from 'commander';
import {
  RUN_STATUSES,
  type RunDocument,
  type RunStatus,
  type ServingRecord,
} from '@recdeploy/shared';
import {
  addBackendOptions,
  cliLogger,
  describeRunStore,
  openRunStore,
  runtimeConfig,
  whereLooked,
  type BackendFlags,
} from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { integerIn } from '../option-parsers.js';
import { printJson } from '../output/json.js';
import { runsTable } from '../output/runs-table.js';

interface RunsFlags extends BackendFlags {
  endpoint?: string;
  status?: RunStatus;
  limit: number;
  json?: boolean;
}

/** Adds the command to `program`. */
export function registerRuns(program: Command, io: CliIo): void {
  const command = program
    .command('runs')
    .description(
      'list runs, newest first: status, endpoint, runtime, revision, traffic share, age, notes',
    )
    .option('--endpoint <id>', 'only runs of this model endpoint')
    .addOption(new Option('--status <status>', 'only runs in this status').choices(RUN_STATUSES))
    .option('--limit <n>', 'at most this many runs', integerIn(1, 500), 20)
    .option('--json', 'print the run documents as one JSON array');
  addBackendOptions(command, { firestore: true }).action(async (flags: RunsFlags) => {
    const config = runtimeConfig(io, flags);
    const store = await openRunStore(config, cliLogger(io));
    let runs: readonly RunDocument[] = [];
    let records: readonly ServingRecord[] = [];
    if (store === undefined) {
      io.err(`no runs yet: ${describeRunStore(config)} does not exist; ${whereLooked(flags)}`);
    } else {
      try {
        runs = await store.listRuns({
          limit: flags.limit,
          ...(flags.endpoint === undefined ? {} : { modelEndpointId: flags.endpoint }),
          ...(flags.status === undefined ? {} : { status: flags.status }),
        });
        // The traffic column only; --json prints the run documents alone.
        if (!flags.json && runs.length > 0) records = await store.listServingRecords();
      } finally {
        await store.close();
      }
    }
    if (flags.json) return printJson(io, runs);
    if (runs.length === 0) {
      if (store !== undefined) io.err(`no runs match in ${describeRunStore(config)}`);
      return;
    }
    for (const line of runsTable(runs, records, new Date())) io.out(line);
  });
}
