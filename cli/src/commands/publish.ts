/**
 * `recdeploy publish <event.json | --sample>`: validates a training-completed
 * message and publishes it: to the local stack's bus (bus.db of the data
 * directory), or with --project to a real Pub/Sub topic. Prints the message
 * id and the run id it starts.
 *
 * Exit codes: 0 published; 1 not published (no local stack running, no
 * subscription on the topic, no sample model, Pub/Sub refused); 2 the file
 * cannot be read or is not a valid training-completed message (the message
 * names the field paths).
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import {
  MAX_EVENT_DATA_BYTES,
  buildTrainingCompletedV1,
  parseTrainingCompletedPayload,
  trainingRunKey,
  type TrainingCompleted,
  type TrainingCompletedV1,
} from '@recdeploy/events';
import type { RuntimeConfig } from '@recdeploy/shared';
import { localDataFiles } from '@recdeploy/shared/wiring';
import { addBackendOptions, runtimeConfig, type BackendFlags } from '../backend.js';
import type { CliIo } from '../cli-io.js';
import { SAMPLE_ENDPOINT, SAMPLE_MODEL_DIR, sampleManifestMetrics } from '../stack/sample-model.js';
import { printJson } from '../output/json.js';
import { usageError } from '../output/usage-error.js';
import { runningStack } from '../stack/stack-state.js';

/** Where the local stack keeps the sample bundle, below the data directory. */

interface PublishFlags extends BackendFlags {
  sample?: boolean;
  queue?: boolean;
  topic?: string;
  json?: boolean;
}

/** A validated message: the JSON as it will be published, and what it asks for. */
export interface EventToPublish {
  readonly payload: unknown;
  readonly event: TrainingCompleted;
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
    .option('--sample', "publish a new run of the local stack's sample model instead of a file")
    .option(
      '--queue',
      'publish to the local bus even when no stack runs (delivered when one starts)',
    )
    .option('--topic <name>', 'topic (default: $TOPIC_TRAINING_COMPLETED, else training-completed)')
    .option('--json', 'print what was published as one JSON object');
  addBackendOptions(command)
    .addHelpText(
      'after',
      '\nExit codes: 0 published, 1 not published (see the message), 2 bad arguments or an invalid event file.',
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
      const toPublish = file === undefined ? sampleEvent(config) : readEventFile(io, file);
      const topic = flags.topic ?? config.topics.trainingCompleted;
      const report =
        config.backend === 'local'
          ? await publishLocally(config.dataDir, topic, toPublish, flags.queue === true)
          : await publishToPubSub(io, config.projectId, topic, toPublish);
      if (flags.json) printJson(io, report);
      else describe(io, report);
      if (report.runId !== undefined) {
        io.err(`follow it with: recdeploy status ${report.runId} --watch`);
      }
      if (report.queued)
        io.err('no local stack is running: the message is delivered when one starts');
    });
}

/** Reads and validates an event file; anything wrong with it is a usage error. */
export function readEventFile(io: CliIo, file: string): EventToPublish {
  const text = readSmallText(io, file);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    usageError(io, `${file} is not valid JSON: ${describeJsonError(error, text)}`);
  }
  const parsed = parseTrainingCompletedPayload(payload);
  if (!parsed.ok) {
    const { code, reason } = parsed.rejection;
    usageError(
      io,
      code === 'EVENT.IGNORED'
        ? `${file} would be ignored by the register step: ${reason}`
        : `${file} is not a valid training-completed message: ${reason}`,
    );
  }
  return { payload, event: parsed.value };
}

/** The file's text; a missing, unreadable or oversized file is a usage error. */
function readSmallText(io: CliIo, file: string): string {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    usageError(io, `cannot read ${file}: ${code === 'ENOENT' ? 'no such file' : code}`);
  }
  if (size > MAX_EVENT_DATA_BYTES) {
    usageError(io, `${file} has ${size} bytes; a message is at most ${MAX_EVENT_DATA_BYTES} bytes`);
  }
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    usageError(io, `cannot read ${file}: ${code === 'EISDIR' ? 'it is a directory' : code}`);
  }
}

/** A JSON.parse error on one line, with the line and column when V8 gives a position. */
export function describeJsonError(error: unknown, text: string): string {
  const message = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ');
  const position = /at position (\d+)/.exec(message)?.[1];
  if (position === undefined || /line \d+/.test(message)) return message;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return `${message} (line ${line}, column ${column})`;
}

/**
 * A new run of the local stack's sample model: the bundle the stack trained
 * into `{dataDir}/models/sample`, a fresh training run id, and a run number
 * from the clock so it is newer than every earlier sample run.
 */
export function sampleMessage(bundleDir: string, now: Date = new Date()): TrainingCompletedV1 {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return buildTrainingCompletedV1({
    training_run_id: `sample-${stamp.toLowerCase()}`,
    model_endpoint_id: SAMPLE_ENDPOINT,
    model_slug: 'sample-two-tower',
    run_number: Math.floor(now.getTime() / 1_000),
    model_type: 'retrieval',
    retrieval_algorithm: 'hnsw',
    artifact_uri: pathToFileURL(bundleDir).href,
    is_blessed: true,
    metrics: sampleManifestMetrics(bundleDir),
    completed_at: now.toISOString(),
  });
}

function sampleEvent(config: RuntimeConfig): EventToPublish {
  if (config.backend !== 'local') throw new Error('the sample needs the local backend');
  const dir = path.resolve(config.dataDir, SAMPLE_MODEL_DIR);
  if (!fs.existsSync(path.join(dir, 'ann', 'manifest.json'))) {
    throw new Error(
      `no sample model at ${dir}: \`recdeploy start\` (npm start) creates it on its first start, or create it with \`recdeploy sample-model --out ${dir}\``,
    );
  }
  const message = sampleMessage(dir);
  const event: TrainingCompleted = {
    kind: 'training_completed',
    idempotencyKey: trainingRunKey(message),
    message,
  };
  return { payload: message, event };
}

async function publishLocally(
  dataDir: string,
  topic: string,
  toPublish: EventToPublish,
  queue: boolean,
): Promise<PublishReport> {
  const stack = runningStack(dataDir);
  const where = path.resolve(dataDir);
  if (stack === undefined && !queue) {
    throw new Error(
      `no local stack is running on ${where}: the message would sit undelivered in its bus until one starts. Start it with \`npm start\` (or \`recdeploy start --data-dir ${dataDir}\`) first, or pass --queue to publish it anyway`,
    );
  }
  const file = localDataFiles(dataDir).eventBus;
  const noSubscription = `topic ${topic} has no subscription in ${path.resolve(file)}, so the message would be dropped (a topic keeps messages only for its subscriptions, as in Pub/Sub); the local stack creates them on its first start`;
  if (!fs.existsSync(file)) throw new Error(noSubscription);
  const { LocalEventBus } = await import('@recdeploy/shared/local');
  const bus = new LocalEventBus({ file });
  try {
    if (!bus.stats().subscriptions.some((s) => s.topic === topic)) throw new Error(noSubscription);
    const messageId = await bus.publish(topic, outgoing(toPublish));
    return {
      messageId,
      topic,
      bus: 'local',
      location: path.resolve(file),
      ...identify(toPublish.event),
      queued: stack === undefined,
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
