/**
 * Moves a run through the run store the way the chain's three functions do
 * (create, claim, complete or fail each step), one write at a time, so a
 * test can watch the dashboard after every write. The documents are the
 * store's own: nothing is written around the state machine.
 */
import type {
  RegistryRef,
  RunDocument,
  RunIdentity,
  RunStatus,
  RunStore,
  ServingRef,
  StepError,
  StepName,
  Verification,
} from '@recdeploy/shared';

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

/** One write and the status the run has after it. */
export interface ChainStep {
  readonly status: RunStatus;
  readonly write: () => Promise<RunDocument>;
}

export interface WalkOptions {
  /** The time of each write (defaults to the store's clock). */
  readonly clock?: () => Date;
}

const LEASE_MS = 300_000;

/** A retrieval run on ann-serving that passes every check. */
export function sampleRunFixture(
  identity: Partial<RunIdentity> = {},
  suffix = 'a1b2c3d4',
): RunFixture {
  const full: RunIdentity = {
    trainingRunId: 'train-001',
    modelEndpointId: 'recs-home',
    modelSlug: 'two-tower',
    runNumber: 1,
    modelType: 'retrieval',
    retrievalAlgorithm: 'scann',
    isBlessed: true,
    metrics: { recall_at_100: 0.4213, loss: 0.0811 },
    ...identity,
    artifactUri:
      identity.artifactUri ??
      `gs://models/${identity.modelEndpointId ?? 'recs-home'}/${identity.runNumber ?? 1}/pushed_model`,
  };
  const service = `rec-${full.modelEndpointId}`;
  return {
    identity: full,
    registry: {
      model: `projects/p/locations/us-central1/models/${full.modelEndpointId}`,
      version: String(full.runNumber),
    },
    serving: {
      runtime: 'ann-serving',
      mode: 'ann',
      runtimeReason: 'retrieval with scann: approximate nearest neighbours (HNSW index)',
      image: 'us-central1-docker.pkg.dev/p/recdeploy/ann-serving:latest',
      service,
      revision: `${service}-r${full.runNumber}-${suffix}`,
      tagUrl: `https://run-${suffix}---${service}-abc.a.run.app`,
    },
    serviceUrl: `https://${service}-abc.a.run.app`,
    verification: {
      checks: [
        { name: 'model_available', passed: true, detail: 'AVAILABLE after 1.2 s' },
        { name: 'metadata_inputs', passed: true, detail: 'inputs customer_id, city, segment' },
        { name: 'smoke_predictions', passed: true, detail: '3 instances, 10 ids each' },
        { name: 'latency', passed: true, detail: 'p50 4.25 ms ≤ 200 ms, p99 9.75 ms ≤ 1000 ms' },
        { name: 'ann_recall', passed: true, detail: 'recall@10 0.975 ≥ 0.9 over 100 queries' },
      ],
      latencyP50Ms: 4.25,
      latencyP99Ms: 9.75,
      recallAtK: { k: 10, recall: 0.975 },
    },
  };
}

/** received → registering → registered → deploying → deployed → verifying → live. */
export function stepsToLive(
  store: RunStore,
  fixture: RunFixture,
  options: WalkOptions = {},
): ChainStep[] {
  const chain = new ChainWriter(store, fixture, options);
  return [
    ...chain.toVerifying(),
    {
      status: 'live',
      write: () =>
        chain.complete('verify', {
          verification: fixture.verification,
          serving: { ...fixture.serving, url: fixture.serviceUrl },
        }),
    },
  ];
}

/**
 * A run whose first deploy attempt fails and is retried, and whose revision
 * then fails verification: received … verifying, failed.
 */
export function stepsToFailedVerification(
  store: RunStore,
  fixture: RunFixture,
  options: WalkOptions = {},
): ChainStep[] {
  const chain = new ChainWriter(store, fixture, options);
  const [received, registering, registered, deploying, ...rest] = chain.toVerifying();
  const failed = fixture.verification.checks.filter((check) => !check.passed);
  const retry: ChainStep[] = [
    {
      status: 'deploying',
      write: () =>
        chain.fail('deploy', {
          code: 'DEPENDENCY.UNAVAILABLE',
          message: 'Cloud Run: 503 UNAVAILABLE: the service is temporarily unavailable',
        }),
    },
    { status: 'deploying', write: () => chain.claim('deploy') },
  ];
  return [
    ...[received, registering, registered, deploying].filter(isStep),
    ...retry,
    ...rest,
    {
      status: 'failed',
      write: () =>
        chain.fail(
          'verify',
          {
            code: 'VERIFY.FAILED',
            message: `${failed.length} of ${fixture.verification.checks.length} checks failed: ${failed
              .map((check) => `${check.name} (${check.detail ?? ''})`)
              .join('; ')}; traffic stays on the previous revision`,
          },
          { permanent: true, patch: { verification: fixture.verification } },
        ),
    },
  ];
}

/** Runs every step in order; returns the last document. */
export async function walk(steps: readonly ChainStep[]): Promise<RunDocument> {
  let last: RunDocument | undefined;
  for (const step of steps) last = await step.write();
  if (last === undefined) throw new Error('no steps to walk');
  return last;
}

function isStep(step: ChainStep | undefined): step is ChainStep {
  return step !== undefined;
}

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

  private owner(step: StepName): string {
    return `function-${step}/evt-${this.runId}-${step}`;
  }

  private now(): { now?: Date } {
    return this.options.clock === undefined ? {} : { now: this.options.clock() };
  }
}
