import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  KEPT_TAGGED_REVISIONS,
  MANAGED_BY_LABELS,
  PREVIOUS_REVISION_ANNOTATION,
  STARTUP_PROBE_TIMING,
  buildRevisionTemplate,
  buildServiceFields,
  currentLiveRevision,
  hasTaggedTarget,
  holdsAllTraffic,
  readServiceTraffic,
  revisionOutcome,
  shortRevisionName,
  trafficForNewRevision,
  trafficForPromote,
  trafficWithout,
  type PlannedTarget,
  type ReconciledService,
} from '../../../shared/adapters/gcp/cloud-run-service-spec.js';
import type { RevisionSpec } from '../../../shared/ports/serving-platform.port.js';

const SERVICE = 'projects/p/locations/us-central1/services/rec-shop';
const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST' as const;
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

const rev = (revision: string, percent: number, tag?: string): PlannedTarget => ({
  type: REVISION,
  revision,
  percent,
  ...(tag !== undefined && { tag }),
});
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
  it('keeps the invoker IAM check for a private service and disables it for a public one', () => {
    assert.equal(buildServiceFields(spec({ public: false })).invokerIamDisabled, false);
    assert.equal(buildServiceFields(spec({ public: true })).invokerIamDisabled, true);
    assert.equal(buildServiceFields(spec()).ingress, 'INGRESS_TRAFFIC_ALL');
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
    assert.deepEqual(fields.annotations, { [PREVIOUS_REVISION_ANNOTATION]: 'rec-shop-r5' });
    assert.deepEqual(buildServiceFields(spec()).labels, MANAGED_BY_LABELS);
    assert.deepEqual(fields.template, buildRevisionTemplate(spec()));
  });
});

describe('traffic for a new revision', () => {
  it('gives the first revision of a new service all traffic (nothing else can serve)', () => {
    assert.deepEqual(trafficForNewRevision(undefined, spec()), [rev('rec-shop-r7', 100, 'run-7')]);
  });

  it('gives it all traffic when the service has no ready revision', () => {
    const current = { traffic: [], latestReadyRevision: '', trafficStatuses: [] };
    assert.deepEqual(trafficForNewRevision(current, spec()), [rev('rec-shop-r7', 100, 'run-7')]);
  });

  it('pins the implicit "latest" traffic to the concrete latest ready revision', () => {
    const current = {
      traffic: [],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [{ type: LATEST, revision: '', percent: 100, tag: '', uri: '' }],
    };
    assert.deepEqual(trafficForNewRevision(current, spec()), [
      rev('rec-shop-r6', 100),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('pins an explicit LATEST target and keeps its tag', () => {
    const current = {
      traffic: [{ type: LATEST, revision: '', percent: 100, tag: 'live' }],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [{ type: LATEST, revision: '', percent: 100, tag: 'live', uri: 'u' }],
    };
    assert.deepEqual(trafficForNewRevision(current, spec()), [
      rev('rec-shop-r6', 100, 'live'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('keeps a split exactly as it is', () => {
    const current = {
      traffic: [rev('rec-shop-r5', 60, 'run-5'), rev('rec-shop-r6', 40)],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [status('rec-shop-r5', 60, 'run-5'), status('rec-shop-r6', 40)],
    };
    const planned = trafficForNewRevision(current, spec());
    assert.deepEqual(planned, [
      rev('rec-shop-r5', 60, 'run-5'),
      rev('rec-shop-r6', 40),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it(`keeps the newest ${KEPT_TAGGED_REVISIONS} tagged 0% targets and drops untagged ones`, () => {
    const zeroes = [1, 2, 3, 4, 5].map((n) => rev(`rec-shop-r${n}`, 0, `run-${n}`));
    const current = {
      traffic: [rev('rec-shop-r6', 100, 'run-6'), ...zeroes, rev('rec-shop-r0', 0)],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [
        status('rec-shop-r6', 100, 'run-6'),
        ...zeroes.map((t) => status(t.revision, 0, t.tag)),
        status('rec-shop-r0', 0),
      ],
    };
    assert.deepEqual(trafficForNewRevision(current, spec()), [
      rev('rec-shop-r6', 100, 'run-6'),
      rev('rec-shop-r3', 0, 'run-3'),
      rev('rec-shop-r4', 0, 'run-4'),
      rev('rec-shop-r5', 0, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('drops a tagged 0% target that never became routable (a failed revision)', () => {
    const current = {
      traffic: [rev('rec-shop-r5', 100, 'run-5'), rev('rec-shop-r6', 0, 'run-6')],
      latestReadyRevision: full('rec-shop-r5'),
      latestCreatedRevision: full('rec-shop-r6'),
      trafficStatuses: [status('rec-shop-r5', 100, 'run-5')],
    };
    assert.deepEqual(trafficForNewRevision(current, spec()), [
      rev('rec-shop-r5', 100, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('replaces an earlier target carrying the same tag, so tags stay unique', () => {
    const current = {
      traffic: [rev('rec-shop-r6', 100, 'run-7'), rev('rec-shop-r5', 0, 'run-7x')],
      latestReadyRevision: full('rec-shop-r6'),
      trafficStatuses: [status('rec-shop-r6', 100, 'run-7'), status('rec-shop-r5', 0, 'run-7x')],
    };
    assert.deepEqual(trafficForNewRevision(current, spec()), [
      rev('rec-shop-r6', 100),
      rev('rec-shop-r5', 0, 'run-7x'),
      rev('rec-shop-r7', 0, 'run-7'),
    ]);
  });

  it('always totals 100 with the new revision once at 0% and unique tags', () => {
    const target = fc.record({
      revision: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'),
      tag: fc.option(fc.constantFrom('a', 'b', 'c', 'd', 'run-7'), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(target, { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 100 }), { minLength: 1, maxLength: 3 }),
        (zeroTargets, weights) => {
          // A valid service: serving targets with distinct tags that total 100, plus 0% ones.
          const total = weights.reduce((a, b) => a + b, 0);
          const percents = weights.map((w) => Math.floor((w * 100) / total));
          percents[0] = (percents[0] ?? 0) + 100 - percents.reduce((a, b) => a + b, 0);
          const serving = percents.map((p, i) => rev(`s${i}`, p, `live-${i}`));
          const seen = new Set<string>(serving.map((t) => t.tag ?? ''));
          const zero = zeroTargets.flatMap((t) => {
            if (t.tag !== undefined && seen.has(t.tag)) return [];
            if (t.tag !== undefined) seen.add(t.tag);
            return [rev(t.revision, 0, t.tag)];
          });
          const traffic = [...serving, ...zero];
          const current = {
            traffic,
            latestReadyRevision: full('s0'),
            trafficStatuses: traffic.map((t) => status(t.revision, t.percent, t.tag)),
          };
          const planned = trafficForNewRevision(current, spec({ revision: 'new', tag: 'run-7' }));
          assert.equal(
            planned.reduce((sum, t) => sum + t.percent, 0),
            100,
          );
          assert.deepEqual(
            planned.filter((t) => t.revision === 'new'),
            [rev('new', 0, 'run-7')],
          );
          const tags = planned.flatMap((t) => (t.tag === undefined ? [] : [t.tag]));
          assert.equal(new Set(tags).size, tags.length);
          assert.ok(planned.filter((t) => t.percent === 0).length <= KEPT_TAGGED_REVISIONS + 1);
        },
      ),
    );
  });
});

describe('traffic for a promote', () => {
  const current = {
    traffic: [
      rev('rec-shop-r6', 100, 'run-6'),
      rev('rec-shop-r5', 0, 'run-5'),
      rev('rec-shop-r7', 0, 'run-7'),
    ],
    latestReadyRevision: full('rec-shop-r7'),
  };

  it('moves all traffic to the revision, keeps the replaced one at 0% with its tag, drops other tags', () => {
    assert.deepEqual(trafficForPromote(current, 'rec-shop-r7'), [
      rev('rec-shop-r7', 100, 'run-7'),
      rev('rec-shop-r6', 0, 'run-6'),
    ]);
    assert.equal(currentLiveRevision(current), 'rec-shop-r6');
  });

  it('keeps no 0% target for a replaced revision without a tag', () => {
    const untagged = {
      ...current,
      traffic: [rev('rec-shop-r6', 100), rev('rec-shop-r7', 0, 'run-7')],
    };
    assert.deepEqual(trafficForPromote(untagged, 'rec-shop-r7'), [
      rev('rec-shop-r7', 100, 'run-7'),
    ]);
  });

  it('treats the largest share of a split as the live revision it replaces', () => {
    const split = {
      traffic: [rev('a', 30, 'ta'), rev('b', 70, 'tb'), rev('c', 0, 'tc')],
      latestReadyRevision: full('c'),
    };
    assert.deepEqual(trafficForPromote(split, 'c'), [rev('c', 100, 'tc'), rev('b', 0, 'tb')]);
  });

  it('knows when a revision already holds all traffic', () => {
    assert.equal(holdsAllTraffic(current, 'rec-shop-r6'), true);
    assert.equal(holdsAllTraffic(current, 'rec-shop-r7'), false);
    assert.equal(holdsAllTraffic({ traffic: [], latestReadyRevision: full('x') }, 'x'), true);
  });
});

describe('traffic reading helpers', () => {
  it('removes every target of a discarded revision and reports what it removed', () => {
    const current = {
      traffic: [rev('a', 100, 'ta'), rev('b', 0, 'tb')],
      latestReadyRevision: full('b'),
    };
    assert.deepEqual(trafficWithout(current, 'b'), {
      traffic: [rev('a', 100, 'ta')],
      removed: [rev('b', 0, 'tb')],
    });
    assert.equal(trafficWithout(current, 'zzz'), undefined);
  });

  it('finds a deploy that already happened by revision and tag', () => {
    const current = { traffic: [rev('a', 100), rev('b', 0, 'tb')], latestReadyRevision: full('a') };
    assert.equal(hasTaggedTarget(current, 'b', 'tb'), true);
    assert.equal(hasTaggedTarget(current, 'b', 'other'), false);
    assert.equal(hasTaggedTarget(current, 'a', 'tb'), false);
  });

  it('reads ServiceTraffic from traffic statuses, resolving "latest" and the previous revision', () => {
    const traffic = readServiceTraffic({
      name: SERVICE,
      uri: 'https://rec-shop-abc123-uc.a.run.app',
      annotations: { [PREVIOUS_REVISION_ANNOTATION]: 'rec-shop-r5' },
      latestReadyRevision: full('rec-shop-r7'),
      trafficStatuses: [
        { type: LATEST, revision: '', percent: 100, tag: '', uri: '' },
        status('rec-shop-r5', 0, 'run-5'),
      ],
    });
    assert.deepEqual(traffic, {
      service: 'rec-shop',
      serviceUrl: 'https://rec-shop-abc123-uc.a.run.app',
      liveRevision: 'rec-shop-r7',
      previousRevision: 'rec-shop-r5',
      targets: [
        { revision: 'rec-shop-r7', percent: 100 },
        {
          revision: 'rec-shop-r5',
          percent: 0,
          tag: 'run-5',
          url: 'https://run-5---rec-shop-abc123-uc.a.run.app',
        },
      ],
    });
  });

  it('reports no live revision while traffic is split', () => {
    const traffic = readServiceTraffic({
      name: SERVICE,
      uri: 'u',
      trafficStatuses: [status('a', 50), status('b', 50)],
    });
    assert.equal(traffic.liveRevision, undefined);
    assert.equal(traffic.previousRevision, undefined);
  });

  it('shortens full revision names and leaves short ones alone', () => {
    assert.equal(shortRevisionName(full('rec-shop-r7')), 'rec-shop-r7');
    assert.equal(shortRevisionName('rec-shop-r7'), 'rec-shop-r7');
    assert.equal(shortRevisionName(undefined), '');
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

  it('is ready when superseded but still routed, and absent otherwise', () => {
    const superseded = { ...base, trafficStatuses: [status('r6', 100), status('r5', 0, 'run-5')] };
    assert.deepEqual(revisionOutcome(superseded, 'r5'), { state: 'ready' });
    assert.deepEqual(revisionOutcome(base, 'r4'), { state: 'absent' });
  });
});
