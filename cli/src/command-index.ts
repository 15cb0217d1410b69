/**
 * What `recdeploy --help` lists: every command's name, its term in the list
 * and its one-line description, without loading any command's module. The
 * list is the only output that needs every command, and loading them all
 * (~570 ES modules) took `--help` past 0.3 s; these stand-ins cost nothing.
 * A unit test holds each entry equal to what its module registers.
 */
import { Command } from 'commander';

export interface CommandSummary {
  /** As the real command shows it in the list: `status [options] <run>`. */
  readonly term: string;
  readonly description: string;
}

export const COMMAND_SUMMARIES: ReadonlyMap<string, CommandSummary> = new Map([
  [
    'start',
    {
      term: 'start [options]',
      description:
        'run the local stack (functions, event bus, serving, dashboard) and deploy the sample model',
    },
  ],
  [
    'publish',
    {
      term: 'publish [options] [event.json]',
      description: 'publish a training-completed message (to the local stack, or to Pub/Sub)',
    },
  ],
  [
    'runs',
    {
      term: 'runs [options]',
      description:
        'list runs, newest first: status, endpoint, runtime, revision, traffic share, age, notes',
    },
  ],
  [
    'status',
    {
      term: 'status [options] <run>',
      description: 'show one run in detail; --watch follows it until it ends',
    },
  ],
  [
    'logs',
    {
      term: 'logs [options]',
      description: "print the local stack's log (functions, adapters, reconciler, bus)",
    },
  ],
  [
    'rollback',
    {
      term: 'rollback [options] <service>',
      description:
        "send a service's traffic back to an earlier revision; its live run becomes rolled_back (or replaced), the target's run live",
    },
  ],
  [
    'retry',
    {
      term: 'retry [options] <run>',
      description:
        'start a failed run again at its failed step (or hand on the step of a run that stopped moving)',
    },
  ],
  [
    'deploy',
    {
      term: 'deploy [options] <run>',
      description:
        'deploy a registered run on demand (skipped, replaced, rolled back, or not blessed), through deploy and verify',
    },
  ],
  [
    'promote',
    {
      term: 'promote [options] <run>',
      description:
        "end a run's canary by promoting it now: its revision takes all the traffic, skipping the remaining steps",
    },
  ],
  [
    'abort',
    {
      term: 'abort [options] <run>',
      description:
        "end a run's canary by aborting it now: all traffic goes back to the stable revision",
    },
  ],
  [
    'sample-model',
    {
      term: 'sample-model [options]',
      description:
        'train a sample two-tower retrieval model on generated B2B data and write its bundle',
    },
  ],
  [
    'build-index',
    {
      term: 'build-index [options] <dir>',
      description: 'build the HNSW index of a model bundle, calibrating ef for a recall target',
    },
  ],
]);

/**
 * Adds a stand-in for every command to `program`, for the list in its help
 * and the "did you mean" of an unknown command. A stand-in never runs: any
 * argument list naming a command loads that command's module instead.
 */
export function addCommandStandIns(program: Command): void {
  for (const [name, summary] of COMMAND_SUMMARIES) {
    program.addCommand(new Command(name).description(summary.description));
  }
  program.configureHelp({
    subcommandTerm: (cmd) => COMMAND_SUMMARIES.get(cmd.name())?.term ?? cmd.name(),
  });
}
