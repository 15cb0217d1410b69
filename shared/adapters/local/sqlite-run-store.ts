import type Database from 'better-sqlite3';
import { TransientError } from '../../errors.js';
import { runKey, type RunDocument, type RunIdentity } from '../../domain/run-document.js';
import { decideCreateRun, decideTransition, type RunDecision } from '../../domain/run-commands.js';
import { decideClaimStep, decideCompleteStep, decideFailStep } from '../../domain/step-commands.js';
import {
  decideAcquireServiceLease,
  shouldReleaseServiceLease,
} from '../../domain/service-lease.js';
import {
  DEFAULT_MAX_REJECTED_EVENTS,
  boundRejectedEvent,
  resolveListLimit,
} from '../../domain/run-queries.js';
import type { EditContext } from '../../domain/run-document-edits.js';
import type {
  RecordServingRequest,
  RecordServingResult,
  ServingRecord,
} from '../../domain/serving-record.js';
import type { FreshnessAlert, OpenFreshnessAlertResult } from '../../domain/freshness-alert.js';
import {
  decideClaimHandOff,
  decideRenewStepLease,
  type ClaimHandOffRequest,
  type ClaimHandOffResult,
  type RenewStepLeaseRequest,
} from '../../domain/step-hand-off.js';
import {
  decideRequestDeploy,
  decideRetryRun,
  type ReopenedRun,
  type RequestDeployRequest,
  type RetryRunRequest,
} from '../../domain/operator-commands.js';
import { decideUpdateCanary } from '../../domain/canary-commands.js';
import type { UpdateCanaryRequest, UpdateCanaryResult } from '../../domain/run-store-types.js';
import type {
  ClaimStepRequest,
  ClaimStepResult,
  CompleteStepRequest,
  CreateRunResult,
  FailStepRequest,
  RejectedEvent,
  RunChange,
  RunQuery,
  RunStore,
  ServiceLeaseRequest,
  ServiceLeaseResult,
  TransitionRequest,
  TransitionResult,
  Unsubscribe,
  WriteContext,
} from '../../ports/run-store.port.js';
import { openSqliteDatabase, writeTransaction } from './sqlite-database.js';
import { migrateRunStore } from './sqlite-run-store-schema.js';
import { SqliteChangeFeed } from './sqlite-change-feed.js';
import { settleWhileBusy } from './sqlite-busy-wait.js';
import { SqliteRunStatements } from './sqlite-run-statements.js';
import { SqliteServingStatements } from './sqlite-serving-statements.js';
import { recordServingIn } from './sqlite-serving-writes.js';
import { SqliteFreshnessAlerts } from './sqlite-freshness-alerts.js';
import {
  BLOCKING_BUSY_TIMEOUT_MS,
  type SqliteRunStoreOptions,
} from './sqlite-run-store-options.js';

export type { SqliteRunStoreOptions } from './sqlite-run-store-options.js';

/**
 * The embedded RunStore: one SQLite file (WAL, synchronous=FULL) that several
 * processes (the functions and the dashboard) share. Every write is one
 * BEGIN IMMEDIATE transaction: load, decide with the domain's pure decision,
 * write the document and its change-log row. better-sqlite3 is synchronous;
 * the methods are async because the port is.
 */
export class SqliteRunStore implements RunStore {
  private readonly db: Database.Database;
  private readonly sql: SqliteRunStatements;
  private readonly servingSql: SqliteServingStatements;
  private readonly alerts: SqliteFreshnessAlerts;
  private readonly feed: SqliteChangeFeed;
  private readonly clock: () => Date;
  private readonly maxRejectedEvents: number;
  private readonly busyWaitMs: number;

  constructor(options: SqliteRunStoreOptions) {
    this.db = openSqliteDatabase(options.file, { busyTimeoutMs: BLOCKING_BUSY_TIMEOUT_MS });
    try {
      migrateRunStore(this.db);
      this.sql = new SqliteRunStatements(this.db);
      this.servingSql = new SqliteServingStatements(this.db);
      this.alerts = new SqliteFreshnessAlerts(this.db);
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.clock = options.clock ?? (() => new Date());
    this.maxRejectedEvents = options.maxRejectedEvents ?? DEFAULT_MAX_REJECTED_EVENTS;
    this.busyWaitMs = options.busyWaitMs ?? 10_000;
    const logger = options.logger;
    this.feed = new SqliteChangeFeed(this.db, options.pollIntervalMs ?? 200, (error) => {
      if (logger) logger.error('run store watch failed', { error: String(error) });
      else process.emitWarning(`run store watch failed: ${String(error)}`);
    });
  }

  createRun(identity: RunIdentity, context: WriteContext = {}): Promise<CreateRunResult> {
    return this.decide(runKey(identity), (current) =>
      decideCreateRun(current, identity, this.context(context)),
    );
  }

  getRun(runId: string): Promise<RunDocument | undefined> {
    return this.settle(() => this.sql.getRun(runId));
  }

  listRuns(query: RunQuery = {}): Promise<readonly RunDocument[]> {
    return this.settle(() => this.sql.listRuns(query, resolveListLimit(query.limit)));
  }

  claimStep(request: ClaimStepRequest): Promise<ClaimStepResult> {
    return this.decide(request.runId, (current) =>
      decideClaimStep(current, request, this.context(request)),
    );
  }

  completeStep(request: CompleteStepRequest): Promise<TransitionResult> {
    return this.decide(request.runId, (current) =>
      decideCompleteStep(current, request, this.context(request)),
    );
  }

  failStep(request: FailStepRequest): Promise<TransitionResult> {
    return this.decide(request.runId, (current) =>
      decideFailStep(current, request, this.context(request)),
    );
  }

  transition(request: TransitionRequest): Promise<TransitionResult> {
    return this.decide(request.runId, (current) =>
      decideTransition(current, request, this.context(request)),
    );
  }

  renewStepLease(request: RenewStepLeaseRequest): Promise<{ readonly expiresAt: string }> {
    return this.decide(request.runId, (current) =>
      decideRenewStepLease(current, request, this.context(request)),
    );
  }

  claimHandOff(request: ClaimHandOffRequest): Promise<ClaimHandOffResult> {
    return this.decide(request.runId, (current) =>
      decideClaimHandOff(current, request, this.context(request)),
    );
  }

  retryRun(request: RetryRunRequest): Promise<ReopenedRun> {
    return this.decide(request.runId, (current) =>
      decideRetryRun(current, request, this.context(request)),
    );
  }

  requestDeploy(request: RequestDeployRequest): Promise<ReopenedRun> {
    return this.decide(request.runId, (current) =>
      decideRequestDeploy(current, request, this.context(request)),
    );
  }

  updateCanary(request: UpdateCanaryRequest): Promise<UpdateCanaryResult> {
    return this.decide(request.runId, (current) =>
      decideUpdateCanary(current, request, this.context(request)),
    );
  }

  recordServing(request: RecordServingRequest): Promise<RecordServingResult> {
    const context = this.context(request);
    const statements = { runs: this.sql, serving: this.servingSql };
    return this.settle(() =>
      recordServingIn(this.db, statements, request, context, () => this.feed.nudge()),
    );
  }

  getServingRecord(service: string): Promise<ServingRecord | undefined> {
    return this.settle(() => this.servingSql.getRecord(service));
  }

  listServingRecords(): Promise<readonly ServingRecord[]> {
    return this.settle(() => this.servingSql.listRecords());
  }

  acquireServiceLease(request: ServiceLeaseRequest): Promise<ServiceLeaseResult> {
    const now = request.now ?? this.clock();
    return this.settle(() =>
      writeTransaction(this.db, () => {
        const current = this.sql.getLease(request.service);
        const decision = decideAcquireServiceLease(current, request, now);
        if (decision.write) this.sql.putLease(decision.write);
        return decision.result;
      }),
    );
  }

  releaseServiceLease(service: string, runId: string): Promise<void> {
    return this.settle(() =>
      writeTransaction(this.db, () => {
        if (shouldReleaseServiceLease(this.sql.getLease(service), runId)) {
          this.sql.deleteLease(service);
        }
      }),
    );
  }

  recordRejectedEvent(event: RejectedEvent): Promise<void> {
    const bounded = boundRejectedEvent(event, this.clock());
    return this.settle(() =>
      writeTransaction(this.db, () => this.sql.addRejected(bounded, this.maxRejectedEvents)),
    );
  }

  listRejectedEvents(limit?: number): Promise<readonly RejectedEvent[]> {
    return this.settle(() => this.sql.listRejected(resolveListLimit(limit)));
  }

  listFreshnessAlerts(): Promise<readonly FreshnessAlert[]> {
    return this.settle(() => this.alerts.list());
  }

  openFreshnessAlert(alert: FreshnessAlert): Promise<OpenFreshnessAlertResult> {
    return this.settle(() => this.alerts.open(alert));
  }

  markFreshnessAlertAnnounced(alertId: string, at: Date): Promise<void> {
    return this.settle(() => this.alerts.markAnnounced(alertId, at));
  }

  closeFreshnessAlert(alertId: string): Promise<void> {
    return this.settle(() => this.alerts.close(alertId));
  }

  watch(listener: (change: RunChange) => void): Unsubscribe {
    this.assertOpen();
    return this.feed.subscribe(listener);
  }

  /** Stops every watcher and closes the connection; idempotent. */
  close(): Promise<void> {
    this.feed.stop();
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /** Load, decide and write in one transaction; then wake local watchers. */
  private decide<R>(
    runId: string,
    decision: (current: RunDocument | undefined) => RunDecision<R>,
  ): Promise<R> {
    return this.settle(() => {
      const result = writeTransaction(this.db, () => {
        const { write, result } = decision(this.sql.getRun(runId));
        if (write) this.sql.putRun(write);
        return result;
      });
      this.feed.nudge();
      return result;
    });
  }

  private context(context: WriteContext): EditContext {
    return {
      now: context.now ?? this.clock(),
      ...(context.eventId === undefined ? {} : { eventId: context.eventId }),
    };
  }

  private assertOpen(): void {
    if (!this.db.open) throw new TransientError('STORE.UNAVAILABLE', 'the run store is closed');
  }

  /** Runs `work` now, waiting out another process's lock (sqlite-busy-wait.ts). */
  private settle<T>(work: () => T): Promise<T> {
    return settleWhileBusy(() => {
      this.assertOpen();
      return work();
    }, this.busyWaitMs);
  }
}
