/**
 * `npm run rehearse` (also `recdeploy start --backend gcp-emulated`): the
 * cloud path for a person, on this machine, before owning a project. The
 * same rehearsal stack the tests run (test/support/rehearsal/rehearsal-chain.ts):
 * the gcloud Firestore and Pub/Sub emulators, stand-ins for Vertex AI, Cloud
 * Storage and Cloud Run whose revisions are real ann-serving processes, the
 * three functions under the functions-framework with RECDEPLOY_BACKEND=gcp,
 * and the dashboard reading Firestore. It trains the sample model, uploads it,
 * publishes training-completed, and keeps serving until Ctrl-C.
 *
 * Narration goes to stderr; the endpoints to stdout (one JSON object with
 * --json). Exit codes: 0 stopped while serving (with --exit-when-live: the
 * sample run went live); 1 it could not start or (--exit-when-live) the run
 * did not go live; 2 bad arguments; 130/143 stopped by SIGINT/SIGTERM before
 * it was serving.
 */
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { readBundle } from '@recdeploy/shared/ann';
import { sampleBundleWithoutIndex } from '../test/support/ann-serving/sample-bundle.js';
import { runIdOf } from '../test/support/chain/convergence.js';
import { trainingCompleted } from '../test/support/chain/local-chain.js';
import { ENDED } from '../test/support/chain/local-chain-probes.js';
import { rehearsalChain, type RehearsalChain } from '../test/support/rehearsal/rehearsal-chain.js';
import {
  startDashboardProcess,
  type DashboardProcess,
} from '../cli/src/stack/dashboard-process.js';
import {
  emulatorsUnavailable,
  startEmulators,
  type Emulators,
} from './rehearse/gcloud-emulators.js';
import { describeEndpoints, type RehearsalEndpoints } from './rehearse/endpoints.js';

const USAGE = `usage: npm run rehearse -- [--bundle DIR] [--json] [--exit-when-live]
  --bundle DIR      deploy this model bundle (a directory holding ann/) instead of training the sample
  --json            print the endpoints as one JSON object on stdout
  --exit-when-live  stop once the sample run has ended (exit 0 when it went live)`;

const SIGNAL_EXIT = { SIGINT: 130, SIGTERM: 143 } as const;

interface Flags {
  readonly json: boolean;
  readonly exitWhenLive: boolean;
  readonly bundle?: string;
}

function flagsOf(argv: readonly string[]): Flags {
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        json: { type: 'boolean' },
        'exit-when-live': { type: 'boolean' },
        bundle: { type: 'string' },
      },
      strict: true,
    });
    const bundle = values.bundle === undefined ? undefined : path.resolve(values.bundle);
    if (bundle !== undefined && !existsSync(path.join(bundle, 'ann'))) {
      throw new Error(`--bundle ${bundle}: not a model bundle (no ann/ in it)`);
    }
    return {
      json: values.json === true,
      exitWhenLive: values['exit-when-live'] === true,
      ...(bundle === undefined ? {} : { bundle }),
    };
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    process.exit(2);
  }
}

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main(): Promise<void> {
  const flags = flagsOf(process.argv.slice(2));
  // This process talks only to emulators: no looking for a GCE metadata server.
  process.env.METADATA_SERVER_DETECTION ??= 'none';
  const unavailable = emulatorsUnavailable();
  if (unavailable !== undefined) {
    say(`cannot rehearse the cloud path here: ${unavailable}`);
    process.exit(1);
  }
  let emulators: Emulators | undefined;
  let chain: RehearsalChain | undefined;
  let dashboard: DashboardProcess | undefined;
  let serving = false;
  let stopping = false;
  let firstSignalAt = 0;
  const stop = async () => {
    await Promise.allSettled([chain?.stop(), dashboard?.stop()]);
    emulators?.stop();
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A terminal signals the whole group and npm forwards its own: signals
      // within a second of the first are that same request.
      if (stopping && Date.now() - firstSignalAt < 1_000) return;
      // A later one while stopping: stop waiting for the parts.
      if (stopping) {
        emulators?.stop();
        say('stopped (forced)');
        process.exit(serving ? 0 : SIGNAL_EXIT[signal]);
      }
      stopping = true;
      firstSignalAt = Date.now();
      say(`${signal}: stopping: functions, revisions, simulators, dashboard, emulators`);
      void stop().then(() => {
        say('stopped');
        process.exit(serving ? 0 : SIGNAL_EXIT[signal]);
      });
    });
  }

  try {
    say('cloud rehearsal: RECDEPLOY_BACKEND=gcp against emulators and simulators on this machine');
    emulators = await startEmulators();
    Object.assign(process.env, emulators.env);
    say(
      emulators.started.length > 0
        ? `emulators: ${emulators.started.join(' and ')} started (${Object.entries(emulators.env)
            .map(([name, host]) => `${name}=${host}`)
            .join(', ')})`
        : 'emulators: using FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST',
    );
    say('starting the Vertex AI, Cloud Storage and Cloud Run stand-ins and the three functions…');
    const [started, sample] = await Promise.all([rehearsalChain(), bundleToDeploy(flags)]);
    chain = started;
    const runtime = chain.config.runtime;
    if (runtime.backend !== 'gcp') throw new Error('the rehearsal runs the gcp backend');
    dashboard = await startDashboardProcess({
      dataDir: await mkdtemp(path.join(os.tmpdir(), 'recdeploy-rehearsal-dashboard-')),
      port: 0,
      logLevel: 'error',
      onLogLine: () => undefined,
      backendEnv: {
        RECDEPLOY_BACKEND: 'gcp',
        GOOGLE_CLOUD_PROJECT: runtime.projectId,
        FIRESTORE_COLLECTION: runtime.collection,
        FIRESTORE_EMULATOR_HOST: emulators.env.FIRESTORE_EMULATOR_HOST,
      },
    });
    say(`project ${runtime.projectId}; dashboard (Firestore) at ${dashboard.url}`);

    const uri = await chain.addBundle(sample.dir, 'sample-run-1');
    const message = trainingCompleted(uri);
    say(`model bundle uploaded to ${uri}; publishing training-completed…`);
    await chain.publishTrainingCompleted(message);
    const runId = runIdOf(message.model_endpoint_id, message.training_run_id);
    const run = await chain.waitForRun(runId, ENDED, 240_000);
    const endpoints: RehearsalEndpoints = {
      projectId: runtime.projectId,
      runId,
      status: run.status,
      ...(run.statusReason === undefined ? {} : { statusReason: run.statusReason }),
      dashboardUrl: dashboard.url,
      metadataHost: chain.cloudRun.metadataHost,
      ...(run.serving?.url === undefined ? {} : { serviceUrl: run.serving.url }),
      ...(run.serving?.revision === undefined ? {} : { revision: run.serving.revision }),
      modelName: chain.config.modelName,
      exampleInstance: sample.example,
    };
    serving = run.status === 'live';
    process.stdout.write(
      flags.json ? `${JSON.stringify(endpoints)}\n` : `${describeEndpoints(endpoints)}\n`,
    );
    if (flags.exitWhenLive) {
      stopping = true;
      await stop();
      process.exit(serving ? 0 : 1);
    }
    say('serving; Ctrl-C stops everything');
  } catch (error) {
    if (stopping) return;
    say(`the rehearsal could not start: ${error instanceof Error ? error.message : String(error)}`);
    await stop();
    process.exit(1);
  }
}

/** The bundle given with --bundle, else the sample model, trained now (300 products). */
async function bundleToDeploy(flags: Flags): Promise<{ dir: string; example: unknown }> {
  if (flags.bundle === undefined) {
    const sample = await sampleBundleWithoutIndex();
    return { dir: sample.dir, example: sample.examples[0] ?? {} };
  }
  // Read as verify will read it: a bundle it cannot read is refused now, with the reason.
  const bundle = await readBundle(flags.bundle);
  return { dir: flags.bundle, example: bundle.examples[0] ?? {} };
}

await main();
