/**
 * The gcloud Firestore and Pub/Sub emulators for the cloud rehearsal
 * (`npm run rehearse`), started as scripts/test.sh starts them for the tests:
 * each on a free loopback port, in its own process group (gcloud starts the
 * Java emulator as its child, so the whole group is stopped), both at once.
 * An emulator already named by FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST
 * is used as it is.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../free-port.js';

export interface Emulators {
  /** FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST. */
  readonly env: Readonly<Record<'FIRESTORE_EMULATOR_HOST' | 'PUBSUB_EMULATOR_HOST', string>>;
  /** What was started here (empty when both were given). */
  readonly started: readonly string[];
  stop(): void;
}

interface Emulator {
  readonly name: string;
  readonly variable: 'FIRESTORE_EMULATOR_HOST' | 'PUBSUB_EMULATOR_HOST';
  readonly component: readonly string[];
}

const EMULATORS: readonly Emulator[] = [
  { name: 'Firestore', variable: 'FIRESTORE_EMULATOR_HOST', component: ['emulators', 'firestore'] },
  { name: 'Pub/Sub', variable: 'PUBSUB_EMULATOR_HOST', component: ['beta', 'emulators', 'pubsub'] },
];

/** Why the emulators cannot start here, or undefined when they can. */
export function emulatorsUnavailable(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.FIRESTORE_EMULATOR_HOST && env.PUBSUB_EMULATOR_HOST) return undefined;
  const missing = ['gcloud', 'java'].filter(
    (command) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0,
  );
  return missing.length === 0
    ? undefined
    : `${missing.join(' and ')} not found: install the Google Cloud CLI with its Firestore and Pub/Sub emulators (gcloud components install cloud-firestore-emulator pubsub-emulator) and Java 17, or set FIRESTORE_EMULATOR_HOST and PUBSUB_EMULATOR_HOST to running emulators`;
}

/** Starts the emulators not already given; resolves once each answers. */
export async function startEmulators(
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<Emulators> {
  const children: ChildProcess[] = [];
  const stop = () => {
    for (const child of children) killGroup(child);
  };
  try {
    const hosts = await Promise.all(
      EMULATORS.map(async (emulator) => {
        const given = env[emulator.variable];
        if (given) {
          await waitUntilGivenAnswers(emulator, given);
          return given;
        }
        const port = await freePort();
        const log = path.join(os.tmpdir(), `recdeploy-rehearsal-${emulator.variable}-${port}.log`);
        const out = openSync(log, 'a');
        const child = spawn(
          'gcloud',
          [...emulator.component, 'start', `--host-port=127.0.0.1:${port}`],
          { detached: true, stdio: ['ignore', out, out] },
        );
        children.push(child);
        await waitUntilAnswering(emulator, port, child, log, timeoutMs);
        return `127.0.0.1:${port}`;
      }),
    );
    return {
      env: { FIRESTORE_EMULATOR_HOST: hosts[0]!, PUBSUB_EMULATOR_HOST: hosts[1]! },
      started: EMULATORS.filter((e) => !env[e.variable]).map((e) => e.name),
      stop,
    };
  } catch (error) {
    stop();
    throw error;
  }
}

/** Both emulators answer GET / with 200 once they listen. */
async function waitUntilAnswering(
  emulator: Emulator,
  port: number,
  child: ChildProcess,
  log: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`the ${emulator.name} emulator exited before it answered (log: ${log})`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `the ${emulator.name} emulator did not answer within ${timeoutMs / 1000} s (log: ${log})`,
      );
    }
    await sleep(500);
  }
}

/** An emulator named by its variable must answer now: the clients would retry for a minute. */
async function waitUntilGivenAnswers(emulator: Emulator, host: string): Promise<void> {
  const ok = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(5_000) }).then(
    (response) => response.ok,
    () => false,
  );
  if (!ok) {
    throw new Error(
      `${emulator.variable}=${host} does not answer: start the ${emulator.name} emulator there, or unset ${emulator.variable} and the rehearsal starts one`,
    );
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
