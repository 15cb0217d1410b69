/**
 * What the three steps of the chain need from the outside world: ports only,
 * chosen once by the wiring (shared/wiring) for the local or the cloud backend.
 */
import type { ChainConfig } from '../config/chain-config.js';
import type { RetrievalAlgorithm, Verification } from '../domain/run-document.js';
import type { ServingMode } from '../domain/routing-policy.js';
import type { ReplayInput } from '../verification/replay-input.js';
import type { Logger } from '../logging/logger.port.js';
import type { ArtifactStore } from '../ports/artifact-store.port.js';
import type { EventBus } from '../ports/event-bus.port.js';
import type { IndexBuilds } from '../ports/index-builds.port.js';
import type { ModelRegistry } from '../ports/model-registry.port.js';
import type { PipelineJobs } from '../ports/pipeline-jobs.port.js';
import type { RevisionMetricsSource } from '../ports/revision-metrics.port.js';
import type { RunStore } from '../ports/run-store.port.js';
import type { RuntimeName, ServingPlatform } from '../ports/serving-platform.port.js';

/** Checks a deployed revision through its tag URL (shared/verification). */
export interface RevisionVerifier {
  verify(request: {
    readonly tagUrl: string;
    /**
     * The ID-token audience of the revision's service (its custom audience or
     * its *.run.app URL, as the platform reports it): Cloud Run refuses a token
     * minted for a tag URL. Absent: each URL's origin.
     */
    readonly audience?: string;
    readonly modelName: string;
    /** Local directory of the bundle's ann/ part (or the artifact directory). */
    readonly bundleDir: string;
    readonly runtime: RuntimeName;
    readonly mode?: ServingMode;
    readonly retrievalAlgorithm: RetrievalAlgorithm;
    /** The run's training run id: the revision must answer with it (the `fingerprint` check). */
    readonly trainingRunId?: string;
    /** The live revision's sample to replay (or why not); absent: no `replay` check. */
    readonly replay?: ReplayInput;
  }): Promise<{ readonly passed: boolean; readonly verification: Verification }>;
}

/** The ANN index stored next to a bundle (shared/usecases/stored-index.ts). */
export interface StoredIndexes {
  status(artifactUri: string): Promise<'present' | 'absent' | 'stale'>;
  /** How long building it would take here, from the catalogue size. */
  estimateBuildSeconds(artifactUri: string): Promise<number>;
  /** Builds it and stores it at `{artifactUri}/ann/index/`. */
  buildInline(artifactUri: string): Promise<void>;
}

export interface ChainDeps {
  readonly config: ChainConfig;
  readonly logger: Logger;
  readonly runStore: RunStore;
  readonly eventBus: EventBus;
  readonly registry: ModelRegistry;
  readonly platform: ServingPlatform;
  readonly artifacts: ArtifactStore;
  readonly indexBuilds: IndexBuilds;
  readonly indexes: StoredIndexes;
  readonly verifier: RevisionVerifier;
  /** Live-traffic metrics by revision, for judging canary steps. */
  readonly metrics: RevisionMetricsSource;
  /** Vertex pipeline jobs; absent on the local backend (no Vertex there). */
  readonly pipelineJobs?: PipelineJobs;
  /** Identifies this process in step leases (host, pid, random). */
  readonly instanceId: string;
}
