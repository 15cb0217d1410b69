/**
 * `recdeploy publish <event.json | --sample>`: validates a training-completed
 * message and publishes it: to the local stack's bus (bus.db of the data
 * directory), or with --project to a real Pub/Sub topic. Prints the message
 * id and the run id it starts.
 *
 * A message whose run already exists would be dropped by the register step
 * (it keeps a run's first message): publish refuses it, says what happened to
 * the run and which command to use (retry, deploy), unless --force publishes
 * it as a duplicate delivery on purpose.
 *
 * Exit codes: 0 published; 1 not published (no local stack running, no
 * subscription on the topic, no sample model, the run store could not be
 * checked, Pub/Sub refused); 2 the file cannot be read or is not a valid
 * training-completed message (the message names the field paths); 3 the run
 * already exists (nothing was published; see the message).
 */
import type { Command } from 'commander';
import type { TrainingCompleted } from '@recdeploy/events';
import type { RunDocument } from '@recdeploy/shared';
import { addBackendOptions, cliLogger, runtimeConfig, type BackendFlags } from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { printJson } from '../output/json.js';
import { usageError } from '../output/usage-error.js';
import { requireLocalDelivery } from './local-delivery.js';
import { checkExistingRun } from './publish-existing-run.js';
import { readEventFile, sampleEvent, type EventToPublish } from './publish-input.js';

interface PublishFlags extends BackendFlags {
  sample?: boolean;
  queue?: boolean;
  force?: boolean;
  topic?: string;
  json?: boolean;
}

/** What was published, as printed with --json. */
export interface PublishReport {
  readonly messageId: string;
  readonly topic: string;
  /** `local` (the data directory's bus.db) or `pubsub`. */
  readonly bus: 'local' | 'pubsub';
  /** The bus file, or the Pub/Sub topic's resource name. */
  readonly location: string;
  /** The run the message starts, when the message names it (not for pipeline log entries). */
  readonly runId?: string;
  /** The Vertex pipeline job register will resolve, for a log-entry message. */
  readonly pipelineJob?: string;
  /** Published with --queue while no local stack runs. */
  readonly queued: boolean;
  /** With --force for a run that exists: its status; the message is a duplicate delivery of it. */
  readonly duplicateOf?: { readonly runId: string; readonly status: RunDocument['status'] };
}

/** Adds the command to `program`. */
export function registerPublish(program: Command, io: CliIo): void {
  const command = program
    .command('publish')
    .description('publish a training-completed message (to the local stack, or to Pub/Sub)')
    .argument(
      '[event.json]',
      'the message: training-completed v1, or a Vertex pipeline job log entry',
    )
    .option(
      '--sample',
      "publish a new run of the local stack's sample model instead of a file (run number: one above the sample endpoint's highest)",
    )
    .option(
      '--queue',
      'publish to the local bus even when no stack runs (delivered when one starts)',
    )
    .option(
      '--force',
      'publish even when the run already exists: the stack treats it as a duplicate delivery',
    )
    .option('--topic <name>', 'topic (default: $TOPIC_TRAINING_COMPLETED, else training-completed)')
    .option('--json', 'print what was published as one JSON object');
  addBackendOptions(command, { firestore: true })
    .addHelpText(
      'after',
      `
Exit codes: 0 published; 1 not published (see the message); 2 bad arguments or an invalid event
file; 3 the run already exists, so the stack would drop the message: not published (the message
says what happened to the run and which command to use: recdeploy retry or recdeploy deploy).`,
    )
    .action(async (file: string | undefined, flags: PublishFlags) => {
      if ((file === undefined) === !flags.sample) {
        usageError(io, 'give an event file or --sample (one of them)');
      }
      const config = runtimeConfig(io, flags);
      if (flags.sample && config.backend !== 'local') {
        usageError(
          io,
          '--sample publishes a file:// model of the local data directory; it cannot go to --project',
        );
      }
      const toPublish =
        file === undefined ? await sampleEvent(config, cliLogger(io)) : readEventFile(io, file);
      const existing = await checkExistingRun(io, config, toPublish.event, flags.force === true);
      const topic = flags.topic ?? config.topics.trainingCompleted;
      const published =
        config.backend === 'local'
          ? await publishLocally(config.dataDir, topic, toPublish, flags.queue === true)
          : await publishToPubSub(io, config.projectId, topic, toPublish);
      const report: PublishReport =
        existing === undefined
          ? published
          : { ...published, duplicateOf: { runId: existing.runId, status: existing.status } };
      if (flags.json) printJson(io, report);
      else describe(io, report);
      if (existing !== undefined) {
        io.err(
          `run ${existing.runId} already exists (${existing.status}): the stack treats this message as a duplicate delivery and registers nothing again`,
        );
      } else if (report.runId !== undefined) {
        io.err(`follow it with: recdeploy status ${report.runId} --watch`);
      }
      if (report.queued)
        io.err('no local stack is running: the message is delivered when one starts');
    });
}

async function publishLocally(
  dataDir: string,
  topic: string,
  toPublish: EventToPublish,
  queue: boolean,
): Promise<PublishReport> {
  const delivery = await requireLocalDelivery(dataDir, [topic], { queue, action: 'publish it' });
  const { LocalEventBus } = await import('@recdeploy/shared/local');
  const bus = new LocalEventBus({ file: delivery.busFile });
  try {
    const messageId = await bus.publish(topic, outgoing(toPublish));
    return {
      messageId,
      topic,
      bus: 'local',
      location: delivery.busFile,
      ...identify(toPublish.event),
      queued: delivery.stack === undefined,
    };
  } finally {
    await bus.close();
  }
}

async function publishToPubSub(
  io: CliIo,
  projectId: string,
  topic: string,
  toPublish: EventToPublish,
): Promise<PublishReport> {
  const { PubSubEventBus } = await import('@recdeploy/shared/gcp');
  const bus = new PubSubEventBus({ projectId });
  const location = `projects/${projectId}/topics/${topic}`;
  io.err(`publishing to ${location}`);
  try {
    const messageId = await bus.publish(topic, outgoing(toPublish));
    return {
      messageId,
      topic,
      bus: 'pubsub',
      location,
      ...identify(toPublish.event),
      queued: false,
    };
  } finally {
    await bus.close();
  }
}

/** The payload exactly as given (validated), with attributes naming its origin and run. */
function outgoing({ payload, event }: EventToPublish): {
  data: unknown;
  attributes: Record<string, string>;
} {
  const attributes: Record<string, string> = { origin: 'recdeploy-cli' };
  if (event.kind === 'training_completed') attributes.run_id = event.idempotencyKey;
  return { data: payload, attributes };
}

function identify(event: TrainingCompleted): Pick<PublishReport, 'runId' | 'pipelineJob'> {
  return event.kind === 'training_completed'
    ? { runId: event.idempotencyKey }
    : { pipelineJob: event.pipelineJobId };
}

function describe(io: CliIo, report: PublishReport): void {
  const where = report.bus === 'local' ? `the local bus ${report.location}` : report.location;
  io.out(`published message ${report.messageId} to topic ${report.topic} (${where})`);
  if (report.runId !== undefined) io.out(`run ${report.runId}`);
  if (report.pipelineJob !== undefined) {
    io.out(`pipeline job ${report.pipelineJob} (register resolves the run from it)`);
  }
}
