/**
 * `recdeploy runs`: the runs of the local stack (or of Firestore with
 * --project), newest first, as a table (statuses coloured on a terminal) or,
 * with -o json|yaml (--json), as the documents.
 * The table's TRAFFIC column comes from the serving records (what the
 * platform observes serving), read once for the whole table; a run in
 * `canary` notes its step and any operator request still to be carried out.
 * The live run of an endpoint with an open freshness alert is marked stale
 * (docs/architecture.md "Freshness"): in the table and, as `stale`, in json/yaml.
 * Exit codes: 0 listed (an empty list too), 1 the store could not be read,
 * 2 bad arguments (stated in the help too).
 */
import { Option, type Command } from 'commander';
import {
  RUN_STATUSES,
  type RunDocument,
  type FreshnessAlert,
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
import { stdoutPaint } from '../output/colour.js';
import {
  addOutputOptions,
  outputFormat,
  printDocument,
  type OutputFlags,
} from '../output/output-format.js';
import { runsTable, withStaleMark } from '../output/runs-table.js';

interface RunsFlags extends BackendFlags, OutputFlags {
  endpoint?: string;
  status?: RunStatus;
  limit: number;
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
    .option('--limit <n>', 'at most this many runs', integerIn(1, 500), 20);
  addOutputOptions(command, 'the run documents as one list');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
TRAFFIC is the share of its service's traffic each run's revision has, as the service's serving
record says the platform serves it (100% for the run that serves alone; a canary and the run it
may replace share it); - before a revision exists, — before the service has a record.
A live run marked "stale" serves a model older than the freshness policy allows
(FRESHNESS_MAX_AGE, FRESHNESS_MAX_LAG); a line under the table names the endpoint and the limit.

Exit codes: 0 listed (none matching too: then a line on stderr says so); 1 the run store could
not be read; 2 bad arguments.`,
    )
    .action(async (flags: RunsFlags) => {
      const format = outputFormat(flags);
      const config = runtimeConfig(io, flags);
      const store = await openRunStore(config, cliLogger(io));
      let runs: readonly RunDocument[] = [];
      let records: readonly ServingRecord[] = [];
      let alerts: readonly FreshnessAlert[] = [];
      if (store === undefined) {
        io.err(`no runs yet: ${describeRunStore(config)} does not exist; ${whereLooked(flags)}`);
      } else {
        try {
          runs = await store.listRuns({
            limit: flags.limit,
            ...(flags.endpoint === undefined ? {} : { modelEndpointId: flags.endpoint }),
            ...(flags.status === undefined ? {} : { status: flags.status }),
          });
          // The traffic column only; json and yaml print the run documents alone.
          if (format === 'table' && runs.length > 0) records = await store.listServingRecords();
          if (runs.some((run) => run.status === 'live')) {
            alerts = await store.listFreshnessAlerts();
          }
        } finally {
          await store.close();
        }
      }
      if (format !== 'table') {
        return printDocument(
          io,
          format,
          runs.map((run) => withStaleMark(run, alerts)),
        );
      }
      if (runs.length === 0) {
        if (store !== undefined) io.err(`no runs match in ${describeRunStore(config)}`);
        return;
      }
      const lines = runsTable(runs, records, new Date(), stdoutPaint(io), alerts);
      for (const line of lines) io.out(line);
    });
}
