import type Database from 'better-sqlite3';
import { TransientError } from '../../errors.js';
import type {
  RevisionMetricsReading,
  RevisionMetricsSource,
  RevisionMetricsWindow,
  RevisionWindowMetrics,
} from '../../ports/revision-metrics.port.js';
import {
  addHistogram,
  decodeHistogram,
  percentileMs,
  type LatencyHistogram,
} from './local-latency-buckets.js';
import { ROUTER_METRICS_FLUSH_MS } from './local-router-metrics.js';
import { migrateLocalServing } from './local-serving-schema.js';
import { openSqliteDatabase } from './sqlite-database.js';

/** A read waits at most this long for a writer's lock (WAL readers rarely wait at all). */
const READ_BUSY_TIMEOUT_MS = 1_000;

interface BucketRow {
  readonly requests: number;
  readonly errors: number;
  readonly inspected: number;
  readonly degenerate: number;
  readonly latency: string;
}

/**
 * The local RevisionMetricsSource: what the service routers recorded per
 * revision and second in the serving state file (local-router-metrics.ts),
 * read from any process through its own connection (WAL: it never blocks
 * the routers).
 *
 * A window is resolved to whole seconds: a second counts when it starts
 * inside `[from, to)`. Percentiles are bucket upper bounds (within 10%
 * above the true value, local-latency-buckets.ts). Counts reach the file
 * within one flush interval, so the reading is complete up to
 * `now − ROUTER_METRICS_FLUSH_MS`.
 */
export class LocalRevisionMetrics implements RevisionMetricsSource {
  private readonly db: Database.Database;
  private readonly bucketsQuery: Database.Statement<[string, string, number, number], BucketRow>;

  constructor(
    /** The serving state file, e.g. `.recdeploy/serving.db`. */
    file: string,
    private readonly now: () => number = Date.now,
  ) {
    this.db = openSqliteDatabase(file, { busyTimeoutMs: READ_BUSY_TIMEOUT_MS });
    try {
      // An older file gains the metrics table (and reads as quiet) rather than failing every read.
      migrateLocalServing(this.db);
      this.bucketsQuery = this.db.prepare(
        `SELECT requests, errors, inspected, degenerate, latency FROM serving_revision_metrics
          WHERE service = ? AND revision = ? AND second >= ? AND second < ?`,
      );
    } catch (error) {
      this.db.close();
      throw error;
    }
  }

  read(
    service: string,
    revisions: readonly string[],
    window: RevisionMetricsWindow,
  ): Promise<RevisionMetricsReading> {
    const from = Math.ceil(window.from.getTime() / 1000);
    const to = Math.ceil(window.to.getTime() / 1000);
    const through = new Date(Math.min(window.to.getTime(), this.now() - ROUTER_METRICS_FLUSH_MS));
    try {
      const read = this.db.transaction(() =>
        revisions.map((revision) => this.readRevision(service, revision, from, to)),
      );
      return Promise.resolve({ revisions: read(), through });
    } catch (error) {
      return Promise.reject(
        new TransientError(
          'STORE.UNAVAILABLE',
          `cannot read the router metrics of service ${service}: ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, metadata: { service } },
        ),
      );
    }
  }

  close(): Promise<void> {
    this.db.close();
    return Promise.resolve();
  }

  private readRevision(
    service: string,
    revision: string,
    fromSecond: number,
    toSecond: number,
  ): RevisionWindowMetrics {
    let requests = 0;
    let errors = 0;
    let inspected = 0;
    let degenerate = 0;
    const latency: LatencyHistogram = new Map<number, number>();
    for (const row of this.bucketsQuery.iterate(service, revision, fromSecond, toSecond)) {
      requests += row.requests;
      errors += row.errors;
      inspected += row.inspected;
      degenerate += row.degenerate;
      addHistogram(latency, decodeHistogram(row.latency));
    }
    const p50 = percentileMs(latency, 0.5);
    const p99 = percentileMs(latency, 0.99);
    return {
      revision,
      requests,
      errors,
      ...(p50 !== undefined && { latencyP50Ms: p50 }),
      ...(p99 !== undefined && { latencyP99Ms: p99 }),
      answers: { inspected, degenerate },
    };
  }
}
