/**
 * Running the recdeploy CLI in tests: in-process through main(argv, io) with
 * both streams captured, or as a real child process through the bin launcher;
 * plus runs written the way the chain writes them, and a stand-in for a
 * running local stack (its stack.json naming this test process).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  runKey,
  type ObservedTraffic,
  type RunDocument,
  type RunIdentity,
  type RunStore,
  type ServingRef,
  type StepName,
} from '@recdeploy/shared';
import { main } from '../../../cli/src/main.js';
import { removeStackState, writeStackState } from '../../../cli/src/stack/stack-state.js';
import { completeAsChain } from '../../fixtures/runs.js';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const LAUNCHER = path.join(ROOT, 'cli/bin/recdeploy.js');

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `recdeploy …args` in this process; stdout and stderr are the lines it wrote. */
export async function recdeploy(...args: string[]): Promise<CliResult> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await main(['node', 'recdeploy', ...args], {
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** A `recdeploy` child process, with its output so far and its exit. */
export interface RecdeployChild {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the result once the process has exited and its streams closed. */
  readonly exited: Promise<CliResult>;
  /** Resolves once stderr matches `pattern`; rejects if the process exits first. */
  waitForStderr(pattern: RegExp): Promise<void>;
}

/**
 * Starts `recdeploy …args` as a child process through cli/bin/recdeploy.js,
 * in the checkout's root unless `cwd` says where.
 */
export function startRecdeployProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd: string = ROOT,
): RecdeployChild {
  const child = spawn(process.execPath, [LAUNCHER, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let closed = false;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      closed = true;
      resolve({ code, stdout, stderr });
    });
  });
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    async waitForStderr(pattern) {
      while (!pattern.test(stderr)) {
        if (closed) throw new Error(`exited before ${pattern} appeared:\n${stdout}\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/** Runs `recdeploy …args` as a child process through cli/bin/recdeploy.js. */
export function recdeployProcess(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  cwd: string = ROOT,
): Promise<CliResult> {
  return startRecdeployProcess(args, env, cwd).exited;
}

/** Tells the CLI a local stack runs on `dataDir` (this process); returns how to undo it. */
export function pretendStackRuns(dataDir: string): () => void {
  writeStackState(dataDir, {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    functions: {
      register: 'http://127.0.0.1:9/',
      deploy: 'http://127.0.0.1:9/',
      verify: 'http://127.0.0.1:9/',
    },
    dashboardUrl: 'http://127.0.0.1:9/',
  });
  return () => removeStackState(dataDir, process.pid);
}

/** Claims and completes one step as a function would, with the patch it records. */
export async function completeStep(
  store: RunStore,
  runId: string,
  step: StepName,
  patch: Partial<Pick<RunDocument, 'registry' | 'serving' | 'verification'>> = {},
): Promise<RunDocument> {
  const claim = await store.claimStep({ runId, step, owner: 'test-chain', leaseMs: 60_000 });
  if (claim.kind !== 'claimed') throw new Error(`${step} of ${runId}: ${claim.kind}`);
  // Verify completes the way the chain completes it: with what serves (recordServing).
  return (await completeAsChain(store, { runId, step, owner: 'test-chain', patch })).run;
}

/**
 * Creates the run and takes it through every step to live, serving `serving`,
 * as verify does: the verify step completes in the same store transaction
 * that records what the platform serves (`observed`, by default 100% on the
 * run's revision), so the run it takes over from becomes `replaced`.
 */
export async function liveRun(
  store: RunStore,
  identity: RunIdentity,
  serving: ServingRef,
  observed: ObservedTraffic = allTrafficOn(serving),
): Promise<RunDocument> {
  const runId = await deployedAndVerifying(store, identity, serving);
  const { changedRuns } = await store.recordServing({
    service: serving.service,
    modelEndpointId: identity.modelEndpointId,
    observed,
    cause: `run ${runId} verified and promoted`,
    complete: { runId, step: 'verify', owner: 'test-chain', patch: patchFor('verify', serving) },
  });
  const run = changedRuns.find((changed) => changed.runId === runId);
  if (run?.status !== 'live') throw new Error(`run ${runId} did not go live`);
  return run;
}

/**
 * Creates the run, completes register and deploy on `serving`, and claims
 * its verify step for "test-chain" (what verify holds while it checks the
 * revision); returns the run id.
 */
export async function deployedAndVerifying(
  store: RunStore,
  identity: RunIdentity,
  serving: ServingRef,
): Promise<string> {
  await store.createRun(identity);
  const runId = runKey(identity);
  await completeStep(store, runId, 'register', patchFor('register', serving));
  await completeStep(store, runId, 'deploy', patchFor('deploy', serving));
  const claim = await store.claimStep({
    runId,
    step: 'verify',
    owner: 'test-chain',
    leaseMs: 60_000,
  });
  if (claim.kind !== 'claimed') throw new Error(`verify of ${runId}: ${claim.kind}`);
  return runId;
}

/** What a platform reports right after promoting the run's revision. */
export function allTrafficOn(serving: ServingRef): ObservedTraffic {
  if (serving.revision === undefined) throw new Error('a live run needs a revision');
  return {
    serviceUrl: serving.url ?? 'http://127.0.0.1:9',
    liveRevision: serving.revision,
    targets: [{ revision: serving.revision, percent: 100 }],
  };
}

/** What each step records, as the chain's steps do. */
export function patchFor(
  step: StepName,
  serving: ServingRef,
): Partial<Pick<RunDocument, 'registry' | 'serving' | 'verification'>> {
  switch (step) {
    case 'register':
      return { registry: { model: 'local/models/1', version: '1' } };
    case 'deploy': {
      // The service URL is recorded when verify promotes the revision.
      const deployed: { -readonly [K in keyof ServingRef]: ServingRef[K] } = { ...serving };
      delete deployed.url;
      return { serving: deployed };
    }
    case 'verify':
      return {
        serving,
        verification: { checks: [{ name: 'model_available', passed: true }] },
      };
  }
}

/** The serving block of a run live on `rec-recs-home`, as the CLI tests seed their stores. */
export const SERVING = {
  runtime: 'ann-serving',
  mode: 'ann',
  runtimeReason: 'retrieval with scann: approximate nearest neighbours (HNSW index)',
  service: 'rec-recs-home',
  revision: 'rec-recs-home-r1-0a1b2c3d',
  tagUrl: 'http://127.0.0.1:40001',
  url: 'http://127.0.0.1:40000',
};
