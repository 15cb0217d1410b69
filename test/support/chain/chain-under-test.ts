/**
 * What the chain scenarios (test/integration/chain/local-chain*.test.ts) need
 * of a running chain, whichever adapters it runs on: the embedded ones
 * (local-chain.ts: SQLite, the local bus, local processes) or the cloud ones
 * against emulators and simulators (test/support/rehearsal/rehearsal-chain.ts:
 * Firestore and Pub/Sub emulators, the Vertex, Cloud Storage and Cloud Run
 * stand-ins). `chainModes()` lists the modes this machine can run.
 */
import type { TrainingCompletedV1 } from '@recdeploy/events';
import type { EventBus, RunDocument, RunStatus, RunStore } from '@recdeploy/shared';
import type { ChainConfig } from '@recdeploy/shared/chain';

/** The chain's topics, by what they carry (each harness knows their real names). */
export type ChainTopic = 'training-completed' | 'model-registered' | 'model-deployed';

export interface ChainUnderTest {
  readonly mode: ChainMode;
  /** The configuration the chain's functions run with (for operator actions such as retryRun). */
  readonly config: ChainConfig;
  /** A second handle on the run store, as a dashboard would have. */
  readonly runs: RunStore;
  /** A handle on the chain's event bus (publishes as the functions do). */
  readonly bus: EventBus;
  /** Puts a bundle directory where the chain may read artifacts; returns its URI. */
  addBundle(sourceDir: string, name: string): Promise<string>;
  /** Reads a file of a stored bundle (`relativePath` below its URI). */
  readArtifact(bundleUri: string, relativePath: string): Promise<string>;
  publishTrainingCompleted(message: TrainingCompletedV1): Promise<string>;
  /** Publishes `data` on one of the chain's topics, as a redelivery would bring it. */
  publish(topic: ChainTopic, data: unknown): Promise<string>;
  /** Resolves with the run once its status is one of `statuses`. */
  waitForRun(
    runId: string,
    statuses: readonly RunStatus[],
    timeoutMs?: number,
  ): Promise<RunDocument>;
  /** Waits until every message published so far has been delivered and answered. */
  waitUntilDelivered(): Promise<void>;
  /** The versions the model registry holds for a model (resource name or id). */
  modelVersions(model: string): Promise<readonly unknown[]>;
  /** Headers a caller needs to reach a serving URL (an ID token on private Cloud Run services). */
  callerHeaders(url: string): Promise<Record<string, string>>;
  /**
   * The revision that answered a request to a service URL, from the answer's
   * headers: the router's X-Recdeploy-Revision where the platform adds one,
   * else the revision of the run whose training run id the server sent back.
   */
  answeringRevision(url: string, headers: Headers): Promise<string | null>;
  stop(): Promise<void>;
}

export type ChainMode = 'local' | 'cloud';
