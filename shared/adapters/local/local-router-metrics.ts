import type Database from 'better-sqlite3';
import type { Logger } from '../../logging/logger.port.js';
import type { AnswerInspection } from './local-answer-inspection.js';
import {
  addHistogram,
  decodeHistogram,
  encodeHistogram,
  latencyBucket,
  type LatencyHistogram,
} from './local-latency-buckets.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';

/** Buffered counts are written at most this often (and at close). */
export const ROUTER_METRICS_FLUSH_MS = 1_000;
/** Buckets older than this are pruned. */
export const ROUTER_METRICS_RETENTION_S = 24 * 60 * 60;
/** How often old buckets are pruned. */
const PRUNE_EVERY_MS = 60_000;
/**
 * A flush waits this long for another process's write lock, blocking the
 * router's event loop meanwhile; past it, the counts stay buffered for the
 * next flush.
 */
const WRITE_BUSY_TIMEOUT_MS = 200;

/** What the router reports per request and per inspected answer (at: unix ms). */
export interface RouterMetricsSink {
  recordRequest(
    service: string,
    revision: string,
    at: number,
    request: { readonly latencyMs: number; readonly error: boolean },
  ): void;
  recordAnswers(service: string, revision: string, at: number, answers: AnswerInspection): void;
}

interface Bucket {
  readonly service: string;
  readonly revision: string;
  readonly second: number;
  requests: number;
  errors: number;
  inspected: number;
  degenerate: number;
  readonly latency: LatencyHistogram;
}

/**
 * Buffers the routers' per-request counts by service, revision and second,
 * and adds them into serving_revision_metrics in one transaction at most
 * once a second: a write per request would cost every request an fsync and
 * a lock. Its own connection to the serving file, with synchronous=NORMAL
 * (WAL stays consistent; a power cut may lose the last second of counts,
 * which is fine for metrics and spares an fsync per flush).
 */
export class RouterMetricsRecorder implements RouterMetricsSink {
  private readonly db: Database.Database;
  private readonly selectLatency: Database.Statement<[string, string, number], { latency: string }>;
  private readonly upsert: Database.Statement<
    [string, string, number, number, number, number, number, string]
  >;
  private readonly deleteBefore: Database.Statement<[number]>;
  private readonly buffer = new Map<string, Bucket>();
  private readonly timer: NodeJS.Timeout;
  private lastPrune = 0;
  private closed = false;
  private failing = false;

  constructor(
    file: string,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openSqliteDatabase(file, { busyTimeoutMs: WRITE_BUSY_TIMEOUT_MS });
    this.db.pragma('synchronous = NORMAL');
    this.selectLatency = this.db.prepare(
      'SELECT latency FROM serving_revision_metrics WHERE service = ? AND revision = ? AND second = ?',
    );
    this.upsert = this.db.prepare(
      `INSERT INTO serving_revision_metrics
         (service, revision, second, requests, errors, inspected, degenerate, latency)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (service, revision, second) DO UPDATE SET
         requests = requests + excluded.requests,
         errors = errors + excluded.errors,
         inspected = inspected + excluded.inspected,
         degenerate = degenerate + excluded.degenerate,
         latency = excluded.latency`,
    );
    this.deleteBefore = this.db.prepare('DELETE FROM serving_revision_metrics WHERE second < ?');
    this.timer = setInterval(() => this.flush(), ROUTER_METRICS_FLUSH_MS);
    this.timer.unref();
  }

  recordRequest(
    service: string,
    revision: string,
    at: number,
    request: { readonly latencyMs: number; readonly error: boolean },
  ): void {
    const bucket = this.bucket(service, revision, at);
    if (!bucket) return;
    bucket.requests += 1;
    if (request.error) bucket.errors += 1;
    const index = latencyBucket(request.latencyMs);
    bucket.latency.set(index, (bucket.latency.get(index) ?? 0) + 1);
  }

  recordAnswers(service: string, revision: string, at: number, answers: AnswerInspection): void {
    const bucket = this.bucket(service, revision, at);
    if (!bucket) return;
    bucket.inspected += answers.inspected;
    bucket.degenerate += answers.degenerate;
  }

  /** Writes what is buffered (adding to rows already written for the same second). */
  flush(): void {
    if (this.closed) return;
    // An idle router takes no write lock (but once a minute, to prune).
    if (this.buffer.size === 0 && this.now() - this.lastPrune < PRUNE_EVERY_MS) return;
    const pending = [...this.buffer.values()];
    this.buffer.clear();
    try {
      writeTransaction(this.db, () => {
        for (const bucket of pending) this.add(bucket);
        this.prune();
      });
      if (this.failing) this.logger.info('router metrics are written again');
      this.failing = false;
    } catch (error) {
      // Kept for the next flush (merged with what arrives meanwhile), logged once per outage.
      for (const bucket of pending) this.merge(bucket);
      if (!this.failing) this.logger.warn('router metrics could not be written', { err: error });
      this.failing = true;
    }
  }

  /** Flushes, then stops; later records are dropped. */
  close(): void {
    if (this.closed) return;
    clearInterval(this.timer);
    this.flush();
    this.closed = true;
    this.db.close();
  }

  private bucket(service: string, revision: string, at: number): Bucket | undefined {
    if (this.closed) return undefined;
    const second = Math.floor(at / 1000);
    const key = `${service}\n${revision}\n${second}`;
    let bucket = this.buffer.get(key);
    if (!bucket) {
      bucket = {
        service,
        revision,
        second,
        requests: 0,
        errors: 0,
        inspected: 0,
        degenerate: 0,
        latency: new Map(),
      };
      this.buffer.set(key, bucket);
    }
    return bucket;
  }

  private merge(from: Bucket): void {
    const into = this.bucket(from.service, from.revision, from.second * 1000);
    if (!into) return;
    into.requests += from.requests;
    into.errors += from.errors;
    into.inspected += from.inspected;
    into.degenerate += from.degenerate;
    addHistogram(into.latency, from.latency);
  }

  /** Adds the bucket to its stored row; the histogram merges here, the counts in SQL. */
  private add(bucket: Bucket): void {
    const { service, revision, second } = bucket;
    const existing = this.selectLatency.get(service, revision, second);
    const latency: LatencyHistogram = existing
      ? decodeHistogram(existing.latency)
      : new Map<number, number>();
    addHistogram(latency, bucket.latency);
    this.upsert.run(
      service,
      revision,
      second,
      bucket.requests,
      bucket.errors,
      bucket.inspected,
      bucket.degenerate,
      encodeHistogram(latency),
    );
  }

  private prune(): void {
    const now = this.now();
    if (now - this.lastPrune < PRUNE_EVERY_MS) return;
    this.lastPrune = now;
    const oldest = Math.floor(now / 1000) - ROUTER_METRICS_RETENTION_S;
    this.deleteBefore.run(oldest);
  }
}
