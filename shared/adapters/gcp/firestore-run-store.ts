import { Firestore, type CollectionReference, type Query } from '@google-cloud/firestore';
import { TransientError } from '../../errors.js';
import { runKey, type RunDocument, type RunIdentity } from '../../domain/run-document.js';
import { decideCreateRun, decideTransition, type RunDecision } from '../../domain/run-commands.js';
import type { EditContext } from '../../domain/run-document-edits.js';
import { decideClaimStep, decideCompleteStep, decideFailStep } from '../../domain/step-commands.js';
import { boundRejectedEvent, resolveListLimit } from '../../domain/run-queries.js';
import type {
  RecordServingRequest,
  RecordServingResult,
  ServingRecord,
} from '../../domain/serving-record.js';
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
import { decideInTransaction } from './firestore-decisions.js';
import { recordServingInTransaction } from './firestore-serving-records.js';
import {
  acquireLeaseInTransaction,
  releaseLeaseInTransaction,
} from './firestore-service-leases.js';
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
import { documentId, fromFirestoreRun, toFirestoreRun } from './firestore-run-mapping.js';
import { listRejectedIn, recordRejectedIn } from './firestore-rejected-events.js';
import { watchRuns } from './firestore-run-watch.js';
import type { FirestoreRunStoreOptions } from './firestore-run-store-options.js';
import { isAlreadyExists, storeCall, toStoreError } from './firestore-errors.js';
import { FirestoreFreshnessAlerts } from './firestore-freshness-alerts.js';
import type { FreshnessAlert, OpenFreshnessAlertResult } from '../../domain/freshness-alert.js';

export type { FirestoreRunStoreOptions } from './firestore-run-store-options.js';

/**
 * The cloud RunStore on Firestore: collection `deployments`, document id =
 * runId, the layout external dashboards read. Every write of a run is one
 * `runTransaction` (read, the domain's pure decision, write); the callback has
 * no side effects because the client re-runs it on contention.
 */
export class FirestoreRunStore implements RunStore {
  private db: Firestore | undefined;
  private readonly ownsClient: boolean;
  private readonly clock: () => Date;
  private readonly watchers = new Set<Unsubscribe>();
  /** Collection `freshness_alerts` (firestore-freshness-alerts.ts). */
  private readonly alerts = new FirestoreFreshnessAlerts(
    () => this.client(),
    () => this.client().collection(this.options.freshnessCollection ?? 'freshness_alerts'),
  );

  constructor(private readonly options: FirestoreRunStoreOptions = {}) {
    this.db = options.firestore;
    this.ownsClient = options.firestore === undefined;
    this.clock = options.clock ?? (() => new Date());
  }

  async createRun(identity: RunIdentity, context: WriteContext = {}): Promise<CreateRunResult> {
    // create() is the precondition: it fails if the run exists, without a transaction.
    const decision = decideCreateRun(undefined, identity, this.context(context));
    const ref = this.runs().doc(documentId(runKey(identity)));
    try {
      if (decision.write) await ref.create(toFirestoreRun(decision.write, this.runs().id));
      return decision.result;
    } catch (error) {
      if (!isAlreadyExists(error)) throw toStoreError(error);
    }
    const existing = await this.getRun(runKey(identity));
    if (existing === undefined) {
      throw new TransientError('STORE.CONFLICT', `run ${runKey(identity)} vanished while created`);
    }
    return { kind: 'exists', run: existing };
  }

  async getRun(runId: string): Promise<RunDocument | undefined> {
    const snapshot = await storeCall(() => this.runs().doc(documentId(runId)).get());
    const data = snapshot.data();
    return data === undefined ? undefined : fromFirestoreRun(data);
  }

  /**
   * Newest updatedAt first. In production Firestore the filtered forms need
   * composite indexes: (status, updatedAt desc), (modelEndpointId, updatedAt
   * desc) and (modelEndpointId, status, updatedAt desc); the emulator does not
   * enforce them.
   */
  async listRuns(query: RunQuery = {}): Promise<readonly RunDocument[]> {
    let q: Query = this.runs();
    if (query.status !== undefined) q = q.where('status', '==', query.status);
    if (query.modelEndpointId !== undefined)
      q = q.where('modelEndpointId', '==', query.modelEndpointId);
    const limit = resolveListLimit(query.limit);
    const snapshot = await storeCall(() => q.orderBy('updatedAt', 'desc').limit(limit).get());
    return snapshot.docs.map((doc) => fromFirestoreRun(doc.data()));
  }

  async claimStep(request: ClaimStepRequest): Promise<ClaimStepResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideClaimStep(current, request, context));
  }

  async completeStep(request: CompleteStepRequest): Promise<TransitionResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideCompleteStep(current, request, context));
  }

  async failStep(request: FailStepRequest): Promise<TransitionResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideFailStep(current, request, context));
  }

  async transition(request: TransitionRequest): Promise<TransitionResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideTransition(current, request, context));
  }

  async renewStepLease(request: RenewStepLeaseRequest): Promise<{ readonly expiresAt: string }> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideRenewStepLease(current, request, context));
  }

  async claimHandOff(request: ClaimHandOffRequest): Promise<ClaimHandOffResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideClaimHandOff(current, request, context));
  }

  async retryRun(request: RetryRunRequest): Promise<ReopenedRun> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideRetryRun(current, request, context));
  }

  async requestDeploy(request: RequestDeployRequest): Promise<ReopenedRun> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideRequestDeploy(current, request, context));
  }

  async updateCanary(request: UpdateCanaryRequest): Promise<UpdateCanaryResult> {
    const context = this.context(request);
    return this.decide(request.runId, (current) => decideUpdateCanary(current, request, context));
  }

  async recordServing(request: RecordServingRequest): Promise<RecordServingResult> {
    const context = this.context(request);
    const collections = { runs: this.runs(), serving: this.serving() };
    return storeCall(() =>
      recordServingInTransaction(this.client(), collections, request, context),
    );
  }

  async getServingRecord(service: string): Promise<ServingRecord | undefined> {
    const snapshot = await storeCall(() => this.serving().doc(documentId(service)).get());
    return snapshot.data() as ServingRecord | undefined;
  }

  async listServingRecords(): Promise<readonly ServingRecord[]> {
    const snapshot = await storeCall(() => this.serving().get());
    return snapshot.docs
      .map((doc) => doc.data() as ServingRecord)
      .sort((a, b) => (a.service < b.service ? -1 : 1));
  }

  async acquireServiceLease(request: ServiceLeaseRequest): Promise<ServiceLeaseResult> {
    const ref = this.leases().doc(documentId(request.service));
    const now = request.now ?? this.clock();
    return storeCall(() => acquireLeaseInTransaction(this.client(), ref, request, now));
  }

  async releaseServiceLease(service: string, runId: string): Promise<void> {
    const ref = this.leases().doc(documentId(service));
    await storeCall(() => releaseLeaseInTransaction(this.client(), ref, runId));
  }

  /** Bounded by age (TTL) and per group (firestore-rejected-events.ts). */
  async recordRejectedEvent(event: RejectedEvent): Promise<void> {
    const bounded = boundRejectedEvent(event, this.clock());
    await recordRejectedIn(this.rejected(), bounded, this.options.logger);
  }

  async listRejectedEvents(limit?: number): Promise<readonly RejectedEvent[]> {
    return listRejectedIn(this.rejected(), resolveListLimit(limit));
  }

  listFreshnessAlerts(): Promise<readonly FreshnessAlert[]> {
    return this.alerts.list();
  }

  openFreshnessAlert(alert: FreshnessAlert): Promise<OpenFreshnessAlertResult> {
    return this.alerts.open(alert);
  }

  markFreshnessAlertAnnounced(alertId: string, at: Date): Promise<void> {
    return this.alerts.markAnnounced(alertId, at);
  }

  closeFreshnessAlert(alertId: string): Promise<void> {
    return this.alerts.close(alertId);
  }

  watch(listener: (change: RunChange) => void): Unsubscribe {
    const logger = this.options.logger;
    const stop = watchRuns(this.runs(), listener, {
      start: this.clock(),
      onError: (error) => {
        if (logger) logger.error('run store watch failed', { error: String(error) });
        else process.emitWarning(`run store watch failed: ${String(error)}`);
      },
    });
    const unsubscribe = (): void => {
      this.watchers.delete(unsubscribe);
      stop();
    };
    this.watchers.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    for (const unsubscribe of [...this.watchers]) unsubscribe();
    if (this.ownsClient && this.db !== undefined) await this.db.terminate();
    if (this.ownsClient) this.db = undefined;
  }

  /** Read, decide and write one run in a transaction; domain errors leave it as values. */
  private async decide<R>(
    runId: string,
    decide: (current: RunDocument | undefined) => RunDecision<R>,
  ): Promise<R> {
    const ref = this.runs().doc(documentId(runId));
    const collection = this.runs().id;
    return storeCall(() =>
      decideInTransaction(this.client(), async (tx) => {
        const data = (await tx.get(ref)).data();
        const decision = decide(data === undefined ? undefined : fromFirestoreRun(data));
        if (decision.write) tx.set(ref, toFirestoreRun(decision.write, collection));
        return decision.result;
      }),
    );
  }

  private context(context: WriteContext): EditContext {
    return {
      now: context.now ?? this.clock(),
      ...(context.eventId === undefined ? {} : { eventId: context.eventId }),
    };
  }

  /** The client, created on first use so importing or constructing needs no credentials. */
  private client(): Firestore {
    this.db ??= new Firestore({
      ...(this.options.projectId === undefined ? {} : { projectId: this.options.projectId }),
      ...(this.options.databaseId === undefined ? {} : { databaseId: this.options.databaseId }),
    });
    return this.db;
  }

  private runs(): CollectionReference {
    return this.client().collection(this.options.collection ?? 'deployments');
  }

  private leases(): CollectionReference {
    return this.client().collection(this.options.leaseCollection ?? 'service_leases');
  }

  private serving(): CollectionReference {
    return this.client().collection(this.options.servingCollection ?? 'serving_records');
  }

  private rejected(): CollectionReference {
    return this.client().collection(this.options.rejectedCollection ?? 'rejected_events');
  }
}
