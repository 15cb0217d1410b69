/**
 * The store calls of one run, as the chain's functions make them: claim,
 * complete or fail a step with the owner and lease a function would use, and
 * verify's success through the serving record.
 */
import type {
  CanaryState,
  ObservedTraffic,
  RegistryRef,
  RunDocument,
  RunIdentity,
  RunPatch,
  RunStatus,
  RunStore,
  ServingRef,
  StepError,
  StepName,
  Verification,
} from '@recdeploy/shared';

/** One write and the status the run has after it. */
export interface ChainStep {
  readonly status: RunStatus;
  readonly write: () => Promise<RunDocument>;
}

/** Everything the steps fill in for one run. */
export interface RunFixture {
  readonly identity: RunIdentity;
  readonly registry: RegistryRef;
  /** What deploy records (no `url`: the revision has no traffic yet). */
  readonly serving: ServingRef;
  /** The service URL verify records when it promotes. */
  readonly serviceUrl: string;
  readonly verification: Verification;
}

export interface WalkOptions {
  /** The time of each write (defaults to the store's clock). */
  readonly clock?: () => Date;
}

const LEASE_MS = 300_000;

/** The store calls of one run, with the owner and lease the functions would use. */
export class ChainWriter {
  readonly runId: string;

  constructor(
    private readonly store: RunStore,
    private readonly fixture: RunFixture,
    private readonly options: WalkOptions = {},
  ) {
    this.runId = `${fixture.identity.modelEndpointId}-${fixture.identity.trainingRunId}`;
  }

  /** received … verifying (deploy records the serving revision without traffic). */
  toVerifying(): ChainStep[] {
    return [
      { status: 'received', write: () => this.create() },
      { status: 'registering', write: () => this.claim('register') },
      {
        status: 'registered',
        write: () => this.complete('register', { registry: this.fixture.registry }),
      },
      { status: 'deploying', write: () => this.claim('deploy') },
      {
        status: 'deployed',
        write: () => this.complete('deploy', { serving: this.fixture.serving }),
      },
      { status: 'verifying', write: () => this.claim('verify') },
    ];
  }

  async create(): Promise<RunDocument> {
    const result = await this.store.createRun(this.fixture.identity, {
      eventId: `evt-${this.runId}-trained`,
      ...this.now(),
    });
    if (result.kind !== 'created') throw new Error(`run ${this.runId} already exists`);
    return result.run;
  }

  async claim(step: StepName): Promise<RunDocument> {
    const result = await this.store.claimStep({
      runId: this.runId,
      step,
      owner: this.owner(step),
      leaseMs: LEASE_MS,
      eventId: `evt-${this.runId}-${step}`,
      ...this.now(),
    });
    if (result.kind !== 'claimed') throw new Error(`claiming ${step} answered ${result.kind}`);
    return result.run;
  }

  async complete(
    step: StepName,
    patch: { registry?: RegistryRef; serving?: ServingRef; verification?: Verification },
  ): Promise<RunDocument> {
    const result = await this.store.completeStep({
      runId: this.runId,
      step,
      owner: this.owner(step),
      patch,
      ...this.now(),
    });
    return result.run;
  }

  /**
   * Verify's success as verify writes it: the platform reports 100% on the
   * run's revision, and the store records that and completes the step in one
   * transaction (the run that served before becomes replaced or rolled_back).
   */
  async goLive(): Promise<RunDocument> {
    const revision = this.fixture.serving.revision ?? '';
    const result = await this.store.recordServing({
      service: this.fixture.serving.service,
      modelEndpointId: this.fixture.identity.modelEndpointId,
      observed: {
        serviceUrl: this.fixture.serviceUrl,
        liveRevision: revision,
        targets: [{ revision, percent: 100 }],
      },
      cause: `run ${this.runId} verified and promoted`,
      complete: this.verifyCompletion({}),
      ...this.now(),
    });
    const run = result.changedRuns.find((changed) => changed.runId === this.runId);
    if (run === undefined) throw new Error(`run ${this.runId} did not go live`);
    return run;
  }

  /**
   * Verify's success when the rollout is a canary, as verify writes it: the
   * platform reports the first step's split (the canary's `percent`, the
   * stable revision the rest), and the store records that, completes the
   * step with the canary's state and moves the run to `canary` in one
   * transaction; the stable's run stays live.
   */
  async startCanary(canary: CanaryState, percent: number): Promise<RunDocument> {
    const result = await this.store.recordServing({
      service: this.fixture.serving.service,
      modelEndpointId: this.fixture.identity.modelEndpointId,
      observed: this.split(canary, percent),
      cause: `run ${this.runId} verified: canary at ${percent}%`,
      startsCanary: true,
      complete: this.verifyCompletion({ canary }),
      ...this.now(),
    });
    const run = result.changedRuns.find((changed) => changed.runId === this.runId);
    if (run?.status !== 'canary') throw new Error(`run ${this.runId} did not start its canary`);
    return run;
  }

  /** The canary's revision at `percent`, the stable's at the rest, as the platform reports them. */
  split(canary: CanaryState, percent: number): ObservedTraffic {
    return {
      serviceUrl: this.fixture.serviceUrl,
      targets: [
        { revision: canary.revision, percent },
        { revision: canary.stableRevision, percent: 100 - percent },
      ],
    };
  }

  /** The platform reports `observed` on the fixture's service (a rollback, a reconciler's look). */
  async observe(observed: ObservedTraffic, cause: string): Promise<readonly RunDocument[]> {
    const result = await this.store.recordServing({
      service: this.fixture.serving.service,
      modelEndpointId: this.fixture.identity.modelEndpointId,
      observed,
      cause,
      ...this.now(),
    });
    return result.changedRuns;
  }

  async fail(
    step: StepName,
    error: StepError,
    options: {
      permanent?: boolean;
      endAs?: 'failed' | 'skipped';
      patch?: { serving?: ServingRef; verification?: Verification };
    } = {},
  ): Promise<RunDocument> {
    const result = await this.store.failStep({
      runId: this.runId,
      step,
      owner: this.owner(step),
      error,
      permanent: options.permanent ?? false,
      ...(options.endAs === undefined ? {} : { endAs: options.endAs }),
      ...(options.patch === undefined ? {} : { patch: options.patch }),
      ...this.now(),
    });
    return result.run;
  }

  /** Verify's step completion as verify writes it: the checks and what serves, plus `extra`. */
  private verifyCompletion(extra: Pick<RunPatch, 'canary'>) {
    return {
      runId: this.runId,
      step: 'verify' as const,
      owner: this.owner('verify'),
      patch: {
        verification: this.fixture.verification,
        serving: { ...this.fixture.serving, url: this.fixture.serviceUrl },
        ...extra,
      },
    };
  }

  private owner(step: StepName): string {
    return `function-${step}/evt-${this.runId}-${step}`;
  }

  private now(): { now?: Date } {
    return this.options.clock === undefined ? {} : { now: this.options.clock() };
  }
}
