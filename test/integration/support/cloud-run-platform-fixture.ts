/**
 * What the CloudRunPlatform integration suites share: the service they deploy
 * to, a RevisionSpec per run number, and a platform pointed at the fake over
 * real gRPC.
 */
import assert from 'node:assert/strict';
import { RecordingLogger } from '../../../shared/logging/recording-logger.js';
import type { RevisionSpec } from '../../../shared/ports/serving-platform.port.js';
import { CloudRunPlatform } from '../../../shared/adapters/gcp/cloud-run-platform.js';
import { CloudRunFake, type UpdateServiceRequestWire } from '../../support/fakes/cloud-run-fake.js';
import { fakeClientOptions } from '../../support/fakes/grpc-fake-server.js';

export const PARENT = 'projects/test-project/locations/us-central1';
export const SERVICE_NAME = `${PARENT}/services/rec-shop`;
export const SERVICE_URL = 'https://rec-shop-abc123-uc.a.run.app';
export const tagUrl = (tag: string) => `https://${tag}---rec-shop-abc123-uc.a.run.app`;
export const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;

/** A traffic target as the adapter sends it. */
export const target = (revision: string, percent: number, tag: string) => ({
  type: REVISION,
  revision,
  percent,
  tag,
});

export function spec(n: number, overrides: Partial<RevisionSpec> = {}): RevisionSpec {
  return {
    service: 'rec-shop',
    revision: `rec-shop-r${n}`,
    tag: `run-${n}`,
    runtime: 'tf-serving',
    image: `us-docker.pkg.dev/p/serving/tf:${n}`,
    env: { MODEL_PATH: `gs://models/shop/${n}`, MODEL_NAME: 'shop' },
    containerPort: 8501,
    startupProbePath: '/v1/models/shop',
    resources: {
      memory: '4Gi',
      cpu: '2',
      minInstances: 0,
      maxInstances: 10,
      timeoutS: 300,
      concurrency: 80,
    },
    public: false,
    labels: { training_run_id: `run-${n}` },
    ...overrides,
  };
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

/** A started fake, a recording logger and a platform on them; `reset` swaps the platform. */
export class PlatformFixture {
  readonly logger = new RecordingLogger();
  platform: CloudRunPlatform;

  private constructor(readonly fake: CloudRunFake) {
    this.platform = this.newPlatform();
  }

  static async start(): Promise<PlatformFixture> {
    const fake = new CloudRunFake();
    await fake.start();
    return new PlatformFixture(fake);
  }

  /** The UpdateService requests the fake received, in order. */
  updates(): UpdateServiceRequestWire[] {
    return this.fake.requestsOf<UpdateServiceRequestWire>('UpdateService');
  }

  /** Replaces the platform with one that waits at most `readyTimeoutMs` for reconciliation. */
  async reset(readyTimeoutMs: number): Promise<void> {
    await this.platform.close();
    this.platform = this.newPlatform(readyTimeoutMs);
  }

  async stop(): Promise<void> {
    await this.platform.close();
    await this.fake.stop();
  }

  private newPlatform(readyTimeoutMs = 5_000): CloudRunPlatform {
    return new CloudRunPlatform({
      projectId: 'test-project',
      region: 'us-central1',
      logger: this.logger,
      clientOptions: fakeClientOptions(this.fake.port),
      pollIntervalMs: 10,
      readyTimeoutMs,
      trafficTimeoutMs: readyTimeoutMs,
    });
  }
}
