/**
 * One crash-point matrix on the real local stack, round by round: the stack it
 * runs (every point named in RECDEPLOY_PAUSE_AT, every marker present), each
 * lane's endpoint and its newest run, and the matrix recorded so far. A round
 * publishes one run per lane, each paused at its point, kills the stack's
 * group, restarts it on the same data directory and checks every run against
 * the state it reaches without a crash; what it finds goes into `results`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isProcessAlive } from '@recdeploy/shared/local';
import type { Failpoint } from '../../../shared/failpoints.js';
import type { PushReceiver } from '../push-receiver.js';
import { PauseMarkers, type CrashJob, type CrashResult } from './crash-schedule.js';
import {
  checkCrashedRun,
  converged,
  failureText,
  nothingInFlight,
  reachPoint,
  settled,
  type Placed,
} from './crash-checks.js';
import {
  describeRun,
  effectProblems,
  LiveRunSampler,
  notConvergedBecause,
  type LiveRunSamples,
  type RunUnderTest,
} from './run-convergence.js';
import { readRun, readRunsOf, revisionPids } from './stack-files.js';
import { killStackGroup, spawnStack, waitUntilUp, type StackProcess } from './stack-process.js';
import {
  copyBundleFor,
  publishTrainingCompleted,
  subscribeToDeploymentFinished,
  trainingRun,
  trainSampleBundle,
  type TrainingRun,
} from './training-runs.js';

export interface CrashTiming {
  /** How long `recdeploy start` may take until it is up. */
  readonly upWithinMs: number;
  /** The promise under test: converged within this of the restart. */
  readonly convergeWithinMs: number;
  /** How long a run that missed the deadline is still watched, to tell "late" from "never". */
  readonly watchLateRunMs: number;
  /** How long a paused run may take to reach its point after it was published. */
  readonly reachPointWithinMs: number;
  /** After convergence, how long the bus may take to have no delivery left. */
  readonly settleWithinMs: number;
}

export interface CrashMatrixOptions {
  /** Holds data/, bundle/, pause/ and stack.log. */
  readonly workDir: string;
  /** Every failpoint: named in RECDEPLOY_PAUSE_AT, its marker present unless armed. */
  readonly points: readonly Failpoint[];
  /** One model endpoint per lane. */
  readonly endpoints: readonly string[];
  /** Receives deployment-finished (started by prepare, stopped by its owner). */
  readonly finished: PushReceiver;
  /** Environment of every start, besides the pause settings. */
  readonly env: Readonly<Record<string, string>>;
  readonly timing: CrashTiming;
}

/** What a round saw from the restart on. */
export interface Recovery {
  readonly restartAt: number;
  readonly upAt: number;
  /** When each run converged (Date.now()), undefined if it had not by the deadline. */
  readonly outcomes: readonly { p: Placed; at: number | undefined }[];
  readonly unsettled: string | undefined;
  readonly samples: readonly LiveRunSamples[];
}

export class CrashMatrix {
  readonly workDir: string;
  readonly dataDir: string;
  readonly endpoints: readonly string[];
  /** The stack started last (killed or not); undefined until the baseline starts one. */
  stack: StackProcess | undefined;
  /** The newest run of each endpoint. */
  readonly newest = new Map<string, TrainingRun>();
  readonly results: CrashResult[] = [];
  readonly baseline: { runId: string; seconds: number }[] = [];
  /** A round that failed may leave a paused or stuck stack: the next round starts afresh. */
  restartBeforeNextRound = false;
  private readonly bundleDir: string;
  private readonly logFile: string;
  private readonly markers: PauseMarkers;
  private readonly points: readonly Failpoint[];
  private readonly finished: PushReceiver;
  private readonly timing: CrashTiming;

  private readonly env: Readonly<Record<string, string>>;

  constructor(options: CrashMatrixOptions) {
    this.workDir = options.workDir;
    this.endpoints = options.endpoints;
    this.points = options.points;
    this.finished = options.finished;
    this.env = options.env;
    this.timing = options.timing;
    this.dataDir = path.join(options.workDir, 'data');
    this.bundleDir = path.join(options.workDir, 'bundle');
    this.logFile = path.join(options.workDir, 'stack.log');
    this.markers = new PauseMarkers(path.join(options.workDir, 'pause'));
  }

  /** Disarms every point, trains the sample bundle, starts the deployment-finished receiver. */
  async prepare(products: number): Promise<void> {
    this.markers.disarmAll(this.points);
    fs.mkdirSync(this.dataDir, { recursive: true });
    await Promise.all([trainSampleBundle(this.bundleDir, products), this.finished.start()]);
  }

  /** The stack, once the baseline has started one. */
  running(): StackProcess {
    if (this.stack === undefined) throw new Error('no stack: the baseline failed');
    return this.stack;
  }

  /** Run 1 of every endpoint without a crash; returns the problems found. */
  async baselineRound(): Promise<string[]> {
    const { dataDir, finished, timing } = this;
    const stack = this.start('first start, nothing armed');
    await waitUntilUp(stack, timing.upWithinMs);
    await subscribeToDeploymentFinished(dataDir, finished);
    const subjects = this.endpoints.map((endpoint) => this.nextRun(endpoint));
    const published = Date.now();
    await Promise.all(subjects.map((s) => publishTrainingCompleted(dataDir, s.run)));
    const problems: string[] = [];
    for (const subject of subjects) {
      const at = await converged(dataDir, finished, subject, published + timing.convergeWithinMs);
      if (at === undefined) {
        problems.push(
          failureText(
            dataDir,
            `baseline run ${subject.run.runId} not live within ${timing.convergeWithinMs / 1000} s: ${notConvergedBecause(dataDir, subject, finished)}`,
            subject,
            [],
          ),
        );
        continue;
      }
      this.baseline.push({ runId: subject.run.runId, seconds: (at - published) / 1000 });
    }
    const unsettled = await settled(dataDir, timing.settleWithinMs);
    for (const subject of subjects) {
      const found = effectProblems(dataDir, subject);
      if (found.length > 0)
        problems.push(failureText(dataDir, `baseline run ${subject.run.runId}`, subject, found));
    }
    if (unsettled) problems.push(`baseline: ${unsettled}`);
    return problems;
  }

  /**
   * Before a round: after a failed one (or a stack that died), whatever it left
   * (a paused run, a stuck one) is crashed once more and must end (in whatever
   * state) before this round can mean anything; the failed round has reported it.
   */
  async recoverFromFailedRound(): Promise<void> {
    const stack = this.running();
    if (!this.restartBeforeNextRound && stack.exitCode() === undefined) return;
    await killStackGroup(stack);
    // A point the failed round armed but no run reached would pause a recovering run.
    this.markers.disarmAll(this.points);
    await waitUntilUp(this.start('restart after a failed round'), this.timing.upWithinMs);
    this.restartBeforeNextRound = false;
    const { convergeWithinMs } = this.timing;
    const moving = await nothingInFlight(
      this.dataDir,
      this.endpoints,
      Date.now() + convergeWithinMs,
    );
    if (moving.length > 0) {
      this.restartBeforeNextRound = true;
      throw new Error(
        `not run: runs left by an earlier failed round are still in flight ${convergeWithinMs / 1000} s after a restart:\n${moving.map((r) => describeRun(r)).join('\n')}`,
      );
    }
    const unsettled = await settled(this.dataDir, this.timing.settleWithinMs);
    if (unsettled) throw new Error(`not run: ${unsettled}`);
  }

  /** Publishes one run per lane, each paused at its point before the next is published. */
  async publishPaused(round: readonly CrashJob[]): Promise<Placed[]> {
    const stack = this.running();
    const placed: Placed[] = [];
    for (const [lane, job] of round.entries()) {
      const subject = this.nextRun(this.endpoints[lane]!);
      placed.push({ job, subject });
      this.markers.arm(job.point);
      await publishTrainingCompleted(this.dataDir, subject.run);
      const within = this.timing.reachPointWithinMs;
      await reachPoint(this.dataDir, this.markers, stack, job.point, subject, within);
    }
    for (const p of placed) {
      const doc = readRun(this.dataDir, p.subject.run.runId);
      p.statusAtKill = doc?.status ?? 'none';
      p.stateAtKill = describeRun(doc, 4);
    }
    return placed;
  }

  /** SIGKILLs the stack's whole process group. */
  async kill(): Promise<void> {
    await killStackGroup(this.running());
  }

  /** Revision processes still alive (after a kill of the group: none). */
  revisionProcessesAlive(): number[] {
    return revisionPids(this.dataDir).filter(isProcessAlive);
  }

  /** Restarts the stack and waits until every placed run converged and the bus settled. */
  async restart(placed: readonly Placed[], label: string): Promise<Recovery> {
    const sampler = new LiveRunSampler(
      this.dataDir,
      placed.map((p) => ({
        modelEndpointId: p.subject.run.modelEndpointId,
        service: p.subject.run.service,
      })),
    );
    let samples: LiveRunSamples[];
    let restartAt: number;
    let upAt: number;
    let outcomes: { p: Placed; at: number | undefined }[];
    let unsettled: string | undefined;
    try {
      const stack = this.start(`restart after ${label}`);
      restartAt = stack.spawnedAt;
      upAt = await waitUntilUp(stack, this.timing.upWithinMs);
      const deadline = restartAt + this.timing.convergeWithinMs;
      outcomes = await Promise.all(
        placed.map(async (p) => ({
          p,
          at: await converged(this.dataDir, this.finished, p.subject, deadline),
        })),
      );
      unsettled = await settled(this.dataDir, this.timing.settleWithinMs);
    } finally {
      samples = sampler.stop();
    }
    return { restartAt, upAt, outcomes, unsettled, samples };
  }

  /** Checks each run of the round and records it in `results`; returns the failures' texts. */
  async record(recovery: Recovery, label: string): Promise<string[]> {
    const { restartAt, upAt, samples } = recovery;
    const { dataDir, finished, timing } = this;
    const failures: string[] = [];
    for (const { p, at } of recovery.outcomes) {
      const seen = samples.find((s) => s.modelEndpointId === p.subject.run.modelEndpointId)!;
      const restart = { restartAt, upAt, seen };
      const checked = await checkCrashedRun(dataDir, finished, p, at, restart, timing);
      this.results.push(checked.result);
      if (checked.failure !== undefined) failures.push(checked.failure);
    }
    if (recovery.unsettled) failures.push(`after ${label}: ${recovery.unsettled}`);
    return failures;
  }

  /** Starts the stack on the data directory with every point named and the markers' directory. */
  private start(label: string): StackProcess {
    const env = {
      ...this.env,
      RECDEPLOY_PAUSE_AT: this.points.join(','),
      RECDEPLOY_PAUSE_DIR: this.markers.dir,
    };
    this.stack = spawnStack({ dataDir: this.dataDir, logFile: this.logFile, env, label });
    return this.stack;
  }

  /**
   * The endpoint's next run, and the run it is to replace: the one live now
   * (normally the previous run; after a failed trial, the last that went live).
   */
  private nextRun(endpoint: string): RunUnderTest {
    const runNumber = (this.newest.get(endpoint)?.runNumber ?? 0) + 1;
    const run = trainingRun(this.dataDir, endpoint, runNumber);
    copyBundleFor(run, this.bundleDir);
    this.newest.set(endpoint, run);
    const live = readRunsOf(this.dataDir, endpoint).filter((r) => r.status === 'live');
    if (live.length > 1)
      throw new Error(`${endpoint}: ${live.length} live runs before ${run.runId}`);
    const previous = live[0] && trainingRun(this.dataDir, endpoint, live[0].runNumber);
    return previous === undefined ? { run } : { run, previous };
  }
}
