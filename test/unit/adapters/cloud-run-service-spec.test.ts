import assert from 'node:assert/strict';
import {
  MANAGED_BY_LABELS,
  PREVIOUS_REVISION_ANNOTATION,
  PUBLIC_ANNOTATION,
  PUBLIC_REVISION_ANNOTATION,
  STARTUP_PROBE_TIMING,
  buildRevisionTemplate,
  buildServiceFields,
  exposureAtPromote,
  revisionOutcome,
  type ReconciledService,
} from '../../../shared/adapters/gcp/cloud-run-service-spec.js';
import type { RevisionSpec } from '../../../shared/ports/serving-platform.port.js';

const SERVICE = 'projects/p/locations/us-central1/services/rec-shop';
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION' as const;

function spec(overrides: Partial<RevisionSpec> = {}): RevisionSpec {
  return {
    service: 'rec-shop',
    revision: 'rec-shop-r7',
    tag: 'run-7',
    runtime: 'tf-serving',
    image: 'tensorflow/serving:2.17.0',
    env: { MODEL_PATH: 'gs://b/m/7', MODEL_NAME: 'shop' },
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
    labels: { training_run_id: 'run-7', model_type: 'retrieval' },
    ...overrides,
  };
}

const status = (revision: string, percent: number, tag = '') => ({
  type: REVISION,
  revision,
  percent,
  tag,
  uri: tag ? `https://${tag}---rec-shop-abc123-uc.a.run.app` : '',
});
const full = (revision: string) => `${SERVICE}/revisions/${revision}`;

describe('Cloud Run revision template', () => {
  it('carries the image, sorted env, port, resources, scaling, timeout, concurrency and probe', () => {
    assert.deepEqual(buildRevisionTemplate(spec()), {
      revision: 'rec-shop-r7',
      labels: { model_type: 'retrieval', training_run_id: 'run-7' },
      annotations: { 'recdeploy.dev/env-names': 'MODEL_NAME,MODEL_PATH' },
      scaling: { minInstanceCount: 0, maxInstanceCount: 10 },
      timeout: { seconds: 300 },
      maxInstanceRequestConcurrency: 80,
      containers: [
        {
          image: 'tensorflow/serving:2.17.0',
          env: [
            { name: 'MODEL_NAME', value: 'shop' },
            { name: 'MODEL_PATH', value: 'gs://b/m/7' },
          ],
          ports: [{ name: 'http1', containerPort: 8501 }],
          resources: { limits: { cpu: '2', memory: '4Gi' }, cpuIdle: true, startupCpuBoost: true },
          startupProbe: {
            httpGet: { path: '/v1/models/shop', port: 8501 },
            periodSeconds: 10,
            timeoutSeconds: 5,
            failureThreshold: 24,
          },
        },
      ],
    });
  });

  it('is byte-identical for equal specs whatever the key order of env and labels', () => {
    const a = buildRevisionTemplate(
      spec({ env: { B: '2', A: '1', C: '3' }, labels: { y: '1', x: '2' } }),
    );
    const b = buildRevisionTemplate(
      spec({ env: { C: '3', A: '1', B: '2' }, labels: { x: '2', y: '1' } }),
    );
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.deepEqual(
      a.containers?.[0]?.env?.map((e) => e.name),
      ['A', 'B', 'C'],
    );
  });

  it('names the service account only when one is configured', () => {
    assert.equal('serviceAccount' in buildRevisionTemplate(spec()), false);
    assert.equal(
      buildRevisionTemplate(spec(), { serviceAccount: 'serve@p.iam.gserviceaccount.com' })
        .serviceAccount,
      'serve@p.iam.gserviceaccount.com',
    );
  });

  it('gives the model about four minutes to load within the startup probe limits', () => {
    const { periodSeconds, timeoutSeconds, failureThreshold } = STARTUP_PROBE_TIMING;
    assert.ok(periodSeconds <= 240, 'startup period ≤ 240 s');
    assert.ok(timeoutSeconds < periodSeconds, 'timeout < period');
    assert.equal(periodSeconds * failureThreshold, 240);
  });
});

describe('Cloud Run service fields', () => {
  it('creates a service private with ingress from all networks, recording a public run’s wish', () => {
    const created = buildServiceFields(spec({ public: true }));
    assert.equal(created.invokerIamDisabled, false);
    assert.equal(created.ingress, 'INGRESS_TRAFFIC_ALL');
    assert.deepEqual(created.annotations, {
      [PUBLIC_ANNOTATION]: 'true',
      [PUBLIC_REVISION_ANNOTATION]: 'rec-shop-r7',
    });
  });

  it('leaves an existing service’s ingress and invoker check alone', () => {
    const fields = buildServiceFields(spec({ public: true }), {}, { labels: {} });
    assert.equal('ingress' in fields, false);
    assert.equal('invokerIamDisabled' in fields, false);
  });

  it('sets minimum instances on the service, keeping its other scaling settings', () => {
    const warm = spec({ resources: { ...spec().resources, minInstances: 3 } });
    assert.deepEqual(buildServiceFields(warm).scaling, { minInstanceCount: 3 });
    assert.deepEqual(
      buildServiceFields(warm, {}, { scaling: { maxInstanceCount: 50, minInstanceCount: 1 } })
        .scaling,
      { maxInstanceCount: 50, minInstanceCount: 3 },
    );
    assert.equal(buildServiceFields(warm).template?.scaling?.minInstanceCount, 0);
  });

  it('turns the invoker check to the wish only when promoting the revision that recorded it', () => {
    const wished = (wish: string, revision = 'rec-shop-r7') => ({
      annotations: { [PUBLIC_ANNOTATION]: wish, [PUBLIC_REVISION_ANNOTATION]: revision },
    });
    assert.equal(exposureAtPromote(wished('true'), 'rec-shop-r7'), true);
    assert.equal(
      exposureAtPromote({ ...wished('true'), invokerIamDisabled: true }, 'rec-shop-r7'),
      undefined,
    );
    assert.equal(
      exposureAtPromote({ ...wished('false'), invokerIamDisabled: true }, 'rec-shop-r7'),
      false,
    );
    assert.equal(exposureAtPromote(wished('true', 'rec-shop-r8'), 'rec-shop-r7'), undefined);
    assert.equal(exposureAtPromote(wished('yes'), 'rec-shop-r7'), undefined);
    assert.equal(exposureAtPromote({}, 'rec-shop-r7'), undefined);
  });

  it('keeps existing labels and annotations and marks the service as managed by recdeploy', () => {
    const fields = buildServiceFields(
      spec(),
      {},
      {
        labels: { team: 'recs', managed_by: 'someone-else' },
        annotations: { [PREVIOUS_REVISION_ANNOTATION]: 'rec-shop-r5' },
      },
    );
    assert.deepEqual(fields.labels, { managed_by: 'recdeploy', team: 'recs' });
    assert.equal(fields.annotations?.[PREVIOUS_REVISION_ANNOTATION], 'rec-shop-r5');
    assert.deepEqual(buildServiceFields(spec()).labels, MANAGED_BY_LABELS);
    assert.deepEqual(fields.template, buildRevisionTemplate(spec()));
  });
});

describe('revision outcome after reconciliation', () => {
  const base: ReconciledService = {
    latestReadyRevision: full('r6'),
    latestCreatedRevision: full('r7'),
    trafficStatuses: [status('r6', 100)],
  };

  it('is ready when the revision is the latest ready one', () => {
    assert.deepEqual(revisionOutcome({ ...base, latestReadyRevision: full('r7') }, 'r7'), {
      state: 'ready',
    });
  });

  it("has failed when it is the latest created but not ready, with the terminal condition's reason", () => {
    const failed = {
      ...base,
      terminalCondition: {
        type: 'Ready',
        state: 'CONDITION_FAILED' as const,
        message: 'The user-provided container failed the configured startup probe checks.',
      },
    };
    assert.deepEqual(revisionOutcome(failed, 'r7'), {
      state: 'failed',
      reason: 'The user-provided container failed the configured startup probe checks.',
    });
  });

  it('falls back to a failed sub-condition, then to a plain statement', () => {
    const viaConditions = {
      ...base,
      terminalCondition: { type: 'Ready', state: 'CONDITION_SUCCEEDED' as const },
      conditions: [
        {
          type: 'ConfigurationsReady',
          state: 'CONDITION_FAILED' as const,
          message: 'image not found',
        },
      ],
    };
    assert.deepEqual(revisionOutcome(viaConditions, 'r7'), {
      state: 'failed',
      reason: 'image not found',
    });
    assert.deepEqual(revisionOutcome(base, 'r7'), {
      state: 'failed',
      reason: 'it did not become ready and Cloud Run gave no reason (latest ready revision: r6)',
    });
  });

  it('has failed when it was the first revision of the service (nothing ready, nothing observed)', () => {
    const first = {
      latestReadyRevision: '',
      latestCreatedRevision: full('r1'),
      trafficStatuses: [],
      traffic: [{ type: REVISION, revision: 'r1', percent: 100, tag: 'run-1' }],
      terminalCondition: {
        type: 'Ready',
        state: 'CONDITION_FAILED' as const,
        message: "Revision 'r1' is not ready and cannot serve traffic. Container import failed.",
      },
    };
    assert.deepEqual(revisionOutcome(first, 'r1'), {
      state: 'failed',
      reason: "Revision 'r1' is not ready and cannot serve traffic. Container import failed.",
    });
  });

  it('is ready when superseded but still routed, and absent otherwise', () => {
    const superseded = { ...base, trafficStatuses: [status('r6', 100), status('r5', 0, 'run-5')] };
    assert.deepEqual(revisionOutcome(superseded, 'r5'), { state: 'ready' });
    assert.deepEqual(revisionOutcome(base, 'r4'), { state: 'absent' });
  });
});
