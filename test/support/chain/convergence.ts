/**
 * Instruments for the convergence tests (test/integration/chain/convergence-*),
 * on top of the in-process chain (local-chain.ts). They observe the chain's
 * own files and processes; none changes what the chain does:
 *
 * - chainDeps(): the adapters the chain's functions use (one memoised set per
 *   process and configuration), so a test drives a use case (rollback, the
 *   reconciler) on the same run store, platform and routers;
 * - BusRecorder: SQLite triggers in bus.db copying every published message
 *   and every answer to a push (retry, dead letter, ack) into test tables, so
 *   counts are facts, not samples (the bus deletes a message once acked);
 * - LiveSampler: reads the run store every ~20 ms in one read transaction
 *   (a consistent snapshot, as a dashboard sees it) and records every sample
 *   where an endpoint does not have exactly one live run agreeing with its
 *   serving record;
 * - StoreLock: another process holding an exclusive SQLite lock on runs.db;
 * - servedBy(): which revision the service router sends a prediction to.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { createInterface } from 'node:readline';
import Database from 'better-sqlite3';
import { createCloudLogger, runKey, type RunDocument } from '@recdeploy/shared';
import { loadChainConfig, type ChainDeps } from '@recdeploy/shared/chain';
import { chainDepsFor } from '@recdeploy/shared/chain-wiring';
import { LocalProcessPlatform } from '@recdeploy/shared/local';
import { localChain, type LocalChain } from './local-chain.js';

/**
 * The chain's adapters, as its functions use them. The functions read their
 * configuration from the environment when the chain starts, and adapters are
 * memoised per configuration: read from the same environment, this is the
 * same set (the same LocalProcessPlatform, owning the revisions' processes).
 * That holds while this file and the functions share one instance of
 * shared/wiring/chain-deps-factory.ts, i.e. when it is imported from an ES
 * module test file inside the repository (a test file outside it is loaded
 * as CommonJS by tsx and would get a second instance, and so a second
 * platform that adopts the revisions).
 */
export async function chainDeps(): Promise<ChainDeps> {
  await localChain();
  const config = loadChainConfig(process.env);
  const logger = createCloudLogger({
    level: config.runtime.logLevel,
    stream: config.runtime.logStream,
    base: { service: 'convergence-test' },
  });
  return chainDepsFor(config, logger);
}

/** The local serving platform behind `deps` (for its traffic log and revisions). */
export function localPlatform(deps: ChainDeps): LocalProcessPlatform {
  assert.ok(
    deps.platform instanceof LocalProcessPlatform,
    'the chain runs on the local process platform',
  );
  return deps.platform;
}

export function runIdOf(endpoint: string, trainingRun: string): string {
  return runKey({ modelEndpointId: endpoint, trainingRunId: trainingRun });
}

/** The router's answer to a prediction: status and the revision that answered. */
export async function servedBy(
  serviceUrl: string,
  instances: readonly unknown[],
): Promise<{ status: number; revision: string | null }> {
  const response = await fetch(`${serviceUrl}/v1/models/recommender:predict`, {
    method: 'POST',
    body: JSON.stringify({ instances }),
  });
  await response.arrayBuffer();
  return { status: response.status, revision: response.headers.get('x-recdeploy-revision') };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `work` with the functions-framework's printout of "step busy" errors
 * held back (it prints every error a handler throws, stack and all, before
 * answering 500; a thousand duplicates would print thousands of lines).
 * Counts what it held back; anything else is printed as usual.
 */
/** The messages of RUN.STEP_BUSY: a step or a service held by another attempt or run. */
const STEP_BUSY = / is held by another attempt until | is being deployed by run .* \(lease until /;

export async function withoutStepBusyTraces<T>(
  work: () => Promise<T>,
): Promise<{ result: T; heldBack: number }> {
  const print = console.error;
  let heldBack = 0;
  console.error = (...args: unknown[]) => {
    const [first] = args;
    if (
      typeof first === 'string' &&
      first.startsWith('TransientError: ') &&
      STEP_BUSY.test(first.split('\n')[0] ?? '')
    ) {
      heldBack += 1;
      return;
    }
    print(...args);
  };
  try {
    return { result: await work(), heldBack };
  } finally {
    console.error = print;
  }
}

/** Polls `read` until `done` holds or `timeoutMs` passes; returns the last value read. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs: number,
  intervalMs = 50,
): Promise<{ value: T; met: boolean; elapsedMs: number }> {
  const started = Date.now();
  for (;;) {
    const value = await read();
    if (done(value)) return { value, met: true, elapsedMs: Date.now() - started };
    if (Date.now() - started > timeoutMs) {
      return { value, met: false, elapsedMs: Date.now() - started };
    }
    await sleep(intervalMs);
  }
}

/** One line per run: id, status, step statuses, replacedBy, reason (for failure messages). */
export function describeRuns(runs: readonly RunDocument[]): string {
  return runs
    .map((run) => {
      const steps = (['register', 'deploy', 'verify'] as const)
        .map((step) => `${step}=${run.steps[step].status}/${run.steps[step].attempts}`)
        .join(' ');
      const replaced = run.replacedBy === undefined ? '' : ` replacedBy=${run.replacedBy}`;
      return `  ${run.runId} #${run.runNumber}: ${run.status} (${steps}) revision=${run.serving?.revision ?? '-'}${replaced} ${run.statusReason ?? ''}`;
    })
    .join('\n');
}

// ---------------------------------------------------------------------------
// The bus, observed

/** A message as it was published (copied by a trigger in the publishing transaction). */
export interface ObservedMessage {
  readonly seq: number;
  readonly id: string;
  readonly topic: string;
  readonly runId: string | null;
  readonly at: string;
}

/** One verdict on a push attempt, as the bus wrote it. */
export interface ObservedAnswer {
  readonly subscription: string;
  readonly messageSeq: number;
  readonly topic: string;
  readonly runId: string | null;
  readonly attempt: number;
  /** `acked` (2xx), `retry` (non-2xx, timeout or connection error, to be retried) or `dead`. */
  readonly outcome: 'acked' | 'retry' | 'dead';
  /** HTTP status of a failed attempt; null for acks (2xx) and for timeouts / connection errors. */
  readonly status: number | null;
  readonly error: string | null;
  readonly at: string;
}

/** One push attempt: claimed by the bus, then answered (or not yet). */
export interface ObservedAttempt {
  readonly subscription: string;
  readonly messageSeq: number;
  readonly topic: string;
  readonly attempt: number;
  readonly claimedAt: string;
  readonly outcome: ObservedAnswer['outcome'] | null;
  readonly status: number | null;
  readonly answeredAt: string | null;
}

const NOW = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/**
 * Test tables and triggers in the chain's bus.db. The bus keeps a message
 * only until every delivery is acknowledged, and a delivery row only until
 * its ack, so "how many hand-offs were published" and "how many pushes were
 * answered non-2xx" cannot be read back afterwards; these triggers copy them
 * in the bus's own transactions. uninstall() drops the triggers.
 */
export class BusRecorder {
  private constructor(private readonly db: Database.Database) {}

  static install(chain: LocalChain): BusRecorder {
    const db = new Database(path.join(chain.dataDir, 'bus.db'));
    db.pragma('busy_timeout = 10000');
    db.exec(`
      CREATE TABLE IF NOT EXISTS test_observed_messages (
        seq INTEGER PRIMARY KEY, id TEXT, topic TEXT, run_id TEXT, at TEXT);
      CREATE TABLE IF NOT EXISTS test_observed_answers (
        n INTEGER PRIMARY KEY AUTOINCREMENT, subscription TEXT, message_seq INTEGER,
        attempt INTEGER, outcome TEXT, status INTEGER, error TEXT, at TEXT);
      CREATE TRIGGER IF NOT EXISTS test_observe_publish AFTER INSERT ON bus_messages BEGIN
        INSERT OR REPLACE INTO test_observed_messages VALUES (new.seq, new.id, new.topic,
          CASE WHEN json_valid(CAST(new.data AS TEXT))
            THEN json_extract(CAST(new.data AS TEXT), '$.run_id') END, ${NOW});
      END;
      CREATE TRIGGER IF NOT EXISTS test_observe_verdict AFTER UPDATE OF last_status ON bus_deliveries
      BEGIN
        INSERT INTO test_observed_answers (subscription, message_seq, attempt, outcome, status, error, at)
        VALUES (new.subscription, new.message_seq, new.attempts,
          CASE new.state WHEN 'dead' THEN 'dead' ELSE 'retry' END,
          new.last_status, substr(new.last_error, 1, 300), ${NOW});
      END;
      CREATE TABLE IF NOT EXISTS test_observed_claims (
        subscription TEXT, message_seq INTEGER, attempt INTEGER, at TEXT,
        PRIMARY KEY (subscription, message_seq, attempt));
      CREATE TRIGGER IF NOT EXISTS test_observe_claim AFTER UPDATE OF attempts ON bus_deliveries
      WHEN new.attempts > old.attempts BEGIN
        INSERT OR REPLACE INTO test_observed_claims VALUES (new.subscription, new.message_seq,
          new.attempts, ${NOW});
      END;
      CREATE TRIGGER IF NOT EXISTS test_observe_ack AFTER DELETE ON bus_deliveries BEGIN
        INSERT INTO test_observed_answers (subscription, message_seq, attempt, outcome, status, error, at)
        VALUES (old.subscription, old.message_seq, old.attempts, 'acked', NULL, NULL, ${NOW});
      END;
    `);
    return new BusRecorder(db);
  }

  /** Messages published to `topic` (optionally only those whose data names `runId`). */
  messages(topic: string, runId?: string): ObservedMessage[] {
    return this.db
      .prepare(
        `SELECT seq, id, topic, run_id AS runId, at FROM test_observed_messages
         WHERE topic = ? AND (? IS NULL OR run_id = ?) ORDER BY seq`,
      )
      .all(topic, runId ?? null, runId ?? null) as ObservedMessage[];
  }

  /** Verdicts on pushes of messages naming `runId` (optionally of one topic), in order. */
  answers(runId: string, topic?: string): ObservedAnswer[] {
    return this.db
      .prepare(
        `SELECT a.subscription, a.message_seq AS messageSeq, m.topic, m.run_id AS runId,
           a.attempt, a.outcome, a.status, a.error, a.at
         FROM test_observed_answers a JOIN test_observed_messages m ON m.seq = a.message_seq
         WHERE m.run_id = ? AND (? IS NULL OR m.topic = ?) ORDER BY a.n`,
      )
      .all(runId, topic ?? null, topic ?? null) as ObservedAnswer[];
  }

  /** Push attempts of messages naming `runId`: when each was claimed and how it was answered. */
  attempts(runId: string): ObservedAttempt[] {
    return this.db
      .prepare(
        `SELECT c.subscription, c.message_seq AS messageSeq, m.topic, c.attempt,
           c.at AS claimedAt, a.outcome, a.status, a.at AS answeredAt
         FROM test_observed_claims c
         JOIN test_observed_messages m ON m.seq = c.message_seq
         LEFT JOIN test_observed_answers a ON a.subscription = c.subscription
           AND a.message_seq = c.message_seq AND a.attempt = c.attempt
         WHERE m.run_id = ? ORDER BY c.at`,
      )
      .all(runId) as ObservedAttempt[];
  }

  /** Deliveries of messages naming `runId` still pending (waiting, leased or retrying). */
  pending(runId: string): number {
    const row = this.db
      .prepare(
        `SELECT COUNT(*) AS n FROM bus_deliveries d JOIN test_observed_messages m
           ON m.seq = d.message_seq WHERE m.run_id = ? AND d.state = 'pending'`,
      )
      .get(runId) as { n: number };
    return row.n;
  }

  /** Drops the triggers (the recorded rows stay until the chain's data directory goes). */
  uninstall(): void {
    if (!this.db.open) return;
    this.db.exec(`
      DROP TRIGGER IF EXISTS test_observe_publish;
      DROP TRIGGER IF EXISTS test_observe_verdict;
      DROP TRIGGER IF EXISTS test_observe_ack;
      DROP TRIGGER IF EXISTS test_observe_claim;
    `);
    this.db.close();
  }
}

/** Per topic: how many attempts were answered 2xx and how many not (by status). */
export function summariseAnswers(answers: readonly ObservedAnswer[]): string {
  const byTopic = new Map<string, { acked: number; failed: Map<string, number> }>();
  for (const answer of answers) {
    const entry = byTopic.get(answer.topic) ?? { acked: 0, failed: new Map<string, number>() };
    byTopic.set(answer.topic, entry);
    if (answer.outcome === 'acked') entry.acked += 1;
    else {
      const key = `${answer.outcome}:${answer.status ?? 'no-answer'}`;
      entry.failed.set(key, (entry.failed.get(key) ?? 0) + 1);
    }
  }
  return [...byTopic.entries()]
    .map(([topic, { acked, failed }]) => {
      const failures = [...failed.entries()].map(([key, n]) => `${n}× ${key}`).join(', ');
      return `${topic}: ${acked} acked${failures === '' ? '' : `, ${failures}`}`;
    })
    .join('; ');
}

// ---------------------------------------------------------------------------
// The run store, sampled

interface SampledRun {
  readonly id: string;
  readonly status: string;
  readonly endpoint: string;
}

/** A sample that broke "exactly one live run per endpoint, named by its serving record". */
export interface LiveViolation {
  readonly at: string;
  readonly endpoint: string;
  readonly problem: string;
  readonly runs: readonly SampledRun[];
  readonly record?: { readonly liveRunId?: string; readonly liveRevision?: string };
}

/**
 * Samples runs.db every `intervalMs` on its own read-only connection, each
 * sample one read transaction (so runs and serving records are one committed
 * state). Per watched endpoint, from its first sample with a live run on:
 * exactly one run is live, and the service's serving record names it.
 * Before that: no run is live.
 */
export class LiveSampler {
  readonly violations: LiveViolation[] = [];
  samples = 0;
  /** The longest gap between two samples (the event loop may be blocked). */
  maxGapMs = 0;
  private readonly db: Database.Database;
  private readonly firstLive = new Map<string, string>();
  private readonly watched = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private last = 0;

  constructor(
    chain: LocalChain,
    private readonly intervalMs = 20,
  ) {
    this.db = new Database(path.join(chain.dataDir, 'runs.db'), { readonly: true });
    this.db.pragma('busy_timeout = 1000');
  }

  /** Watches `endpoint`, served by `service`. */
  watch(endpoint: string, service: string): void {
    this.watched.set(endpoint, service);
    this.timer ??= setInterval(() => this.sample(), this.intervalMs);
  }

  /** When the endpoint was first seen with a live run. */
  firstLiveAt(endpoint: string): string | undefined {
    return this.firstLive.get(endpoint);
  }

  violationsOf(endpoint: string): LiveViolation[] {
    return this.violations.filter((v) => v.endpoint === endpoint);
  }

  sample(): void {
    const now = Date.now();
    if (this.last !== 0) this.maxGapMs = Math.max(this.maxGapMs, now - this.last);
    this.last = now;
    const endpoints = [...this.watched.keys()];
    if (endpoints.length === 0) return;
    const at = new Date(now).toISOString();
    const read = this.db.transaction(() => {
      const marks = endpoints.map(() => '?').join(',');
      const runs = this.db
        .prepare(
          `SELECT id, status, model_endpoint_id AS endpoint FROM deployments
           WHERE model_endpoint_id IN (${marks}) ORDER BY id`,
        )
        .all(...endpoints) as SampledRun[];
      const services = [...this.watched.values()];
      const records = this.db
        .prepare(
          `SELECT service, doc FROM serving_records WHERE service IN (${services.map(() => '?').join(',')})`,
        )
        .all(...services) as { service: string; doc: string }[];
      return { runs, records };
    });
    const { runs, records } = read();
    this.samples += 1;
    for (const [endpoint, service] of this.watched) {
      const ofEndpoint = runs.filter((run) => run.endpoint === endpoint);
      const live = ofEndpoint.filter((run) => run.status === 'live');
      const recordRow = records.find((row) => row.service === service);
      const parsed = recordRow
        ? (JSON.parse(recordRow.doc) as { liveRunId?: string; liveRevision?: string })
        : undefined;
      const record =
        parsed === undefined
          ? undefined
          : {
              ...(parsed.liveRunId === undefined ? {} : { liveRunId: parsed.liveRunId }),
              ...(parsed.liveRevision === undefined ? {} : { liveRevision: parsed.liveRevision }),
            };
      if (live.length > 0 && !this.firstLive.has(endpoint)) this.firstLive.set(endpoint, at);
      const started = this.firstLive.has(endpoint);
      let problem: string | undefined;
      if (live.length > 1) problem = `${live.length} runs live`;
      else if (started && live.length === 0) problem = 'no run live (after one had been)';
      else if (live.length === 1 && record?.liveRunId !== live[0]?.id) {
        problem = `the serving record names ${record?.liveRunId ?? 'no run'}, the live run is ${live[0]?.id ?? '?'}`;
      }
      if (problem !== undefined && this.violations.length < 200) {
        this.violations.push({
          at,
          endpoint,
          problem,
          runs: ofEndpoint,
          ...(record === undefined ? {} : { record }),
        });
      }
    }
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.db.open) this.db.close();
  }
}

export function describeViolations(violations: readonly LiveViolation[], max = 5): string {
  const shown = violations.slice(0, max).map((v) => {
    const runs = v.runs.map((run) => `${run.id}=${run.status}`).join(', ');
    const record = v.record
      ? `record: live ${v.record.liveRunId ?? '-'} (${v.record.liveRevision ?? '-'})`
      : 'no serving record';
    return `  ${v.at} ${v.endpoint}: ${v.problem}\n    runs: ${runs}\n    ${record}`;
  });
  const more = violations.length > max ? `\n  … and ${violations.length - max} more` : '';
  return `${shown.join('\n')}${more}`;
}

// ---------------------------------------------------------------------------
// A store that refuses writes

/** What the lock holder saw when it got the lock, and when it let go. */
export interface LockReport {
  readonly lockedAt: number;
  /** The run's document as committed when the lock was taken. */
  readonly runAtLock?: RunDocument;
  readonly releasedAt: Promise<number>;
}

const LOCK_HOLDER = `
const Database = require(process.argv[1]);
const db = new Database(process.argv[2]);
db.pragma('busy_timeout = 5000');
const say = (event) => process.stdout.write(JSON.stringify(event) + '\\n');
require('node:readline').createInterface({ input: process.stdin }).once('line', (line) => {
  const { holdMs, runId } = JSON.parse(line);
  db.exec('BEGIN EXCLUSIVE');
  const row = db.prepare('SELECT doc FROM deployments WHERE id = ?').get(runId);
  say({ event: 'locked', at: Date.now(), doc: row ? row.doc : null });
  setTimeout(() => {
    db.exec('COMMIT');
    say({ event: 'released', at: Date.now() });
    db.close();
    process.exit(0);
  }, holdMs);
});
say({ event: 'ready' });
`;

/**
 * Another process that takes an exclusive lock on a SQLite file (BEGIN
 * EXCLUSIVE: in WAL mode it blocks every writer; readers still read) when
 * told, and holds it for a fixed time. Started ahead, so taking the lock
 * costs one pipe write, not a process start.
 */
export class StoreLock {
  private readonly lines: AsyncIterator<string, undefined>;

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  }

  static async open(file: string): Promise<StoreLock> {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const child = spawn(process.execPath, ['-e', LOCK_HOLDER, driver, file], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const lock = new StoreLock(child);
    const ready = await lock.next();
    assert.equal(ready.event, 'ready', `lock holder did not start: ${JSON.stringify(ready)}`);
    return lock;
  }

  /** Takes the lock now and holds it `holdMs`; resolves once it is held. */
  async hold(holdMs: number, runId: string): Promise<LockReport> {
    this.child.stdin.write(`${JSON.stringify({ holdMs, runId })}\n`);
    const locked = await this.next();
    assert.equal(locked.event, 'locked', JSON.stringify(locked));
    const releasedAt = this.next().then((event) => {
      assert.equal(event.event, 'released', JSON.stringify(event));
      return event.at as number;
    });
    releasedAt.catch(() => undefined);
    return {
      lockedAt: locked.at as number,
      ...(typeof locked.doc === 'string'
        ? { runAtLock: JSON.parse(locked.doc) as RunDocument }
        : {}),
      releasedAt,
    };
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  private async next(): Promise<Record<string, unknown>> {
    const line = await this.lines.next();
    if (line.done === true) throw new Error('the lock holder exited');
    return JSON.parse(line.value) as Record<string, unknown>;
  }
}
