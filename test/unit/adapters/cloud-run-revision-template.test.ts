import assert from 'node:assert/strict';
import {
  ENV_NAMES_ANNOTATION,
  buildRevisionTemplate,
  type RevisionTemplateMessage,
} from '../../../shared/adapters/gcp/cloud-run-revision-template.js';
import type { RevisionSpec } from '../../../shared/ports/serving-platform.port.js';

function spec(overrides: Partial<RevisionSpec> = {}): RevisionSpec {
  return {
    service: 'rec-shop',
    revision: 'rec-shop-r8',
    tag: 'run-8',
    runtime: 'tf-serving',
    image: 'tensorflow/serving:2.17.0',
    env: { MODEL_PATH: 'gs://b/m/8', MODEL_NAME: 'shop' },
    containerPort: 8501,
    startupProbePath: '/v1/models/shop',
    resources: {
      memory: '4Gi',
      cpu: '2',
      minInstances: 2,
      maxInstances: 10,
      timeoutS: 300,
      concurrency: 80,
    },
    public: false,
    labels: { run_number: '8' },
    ...overrides,
  };
}

const SECRET = { secretKeyRef: { secret: 'api-key', version: 'latest' } };

/** A service template as a previous deploy left it and an operator then edited it. */
const operated: RevisionTemplateMessage = {
  revision: 'rec-shop-00007-abc',
  labels: { run_number: '7', team: 'search' },
  annotations: { [ENV_NAMES_ANNOTATION]: 'MODEL_NAME,MODEL_PATH,SERVING_MODE', 'ops/owner': 'a' },
  scaling: { minInstanceCount: 2, maxInstanceCount: 5 },
  serviceAccount: 'operator@p.iam.gserviceaccount.com',
  vpcAccess: { connector: 'projects/p/locations/l/connectors/c', egress: 'ALL_TRAFFIC' },
  executionEnvironment: 'EXECUTION_ENVIRONMENT_GEN2',
  sessionAffinity: true,
  volumes: [{ name: 'certs', secret: { secret: 'tls' } }],
  containers: [
    { name: 'proxy', image: 'envoy:1' },
    {
      name: 'serving',
      image: 'tensorflow/serving:2.16.0',
      env: [
        { name: 'MODEL_PATH', value: 'gs://b/m/7' },
        { name: 'SERVING_MODE', value: 'stale' },
        { name: 'API_KEY', valueSource: SECRET },
        { name: 'MODEL_NAME', value: 'operator-override' },
      ],
      ports: [{ name: 'http1', containerPort: 8501 }],
      volumeMounts: [{ name: 'certs', mountPath: '/certs' }],
      resources: { limits: { cpu: '1', memory: '2Gi', 'nvidia.com/gpu': '1' } },
    },
  ],
};

describe('Cloud Run revision template over the current one', () => {
  const built = buildRevisionTemplate(spec(), {}, operated);
  const serving = built.containers?.[1];

  it('keeps what recdeploy does not own: VPC access, volumes, sidecars, environment, affinity, account', () => {
    assert.deepEqual(built.vpcAccess, operated.vpcAccess);
    assert.deepEqual(built.volumes, operated.volumes);
    assert.equal(built.executionEnvironment, 'EXECUTION_ENVIRONMENT_GEN2');
    assert.equal(built.sessionAffinity, true);
    assert.equal(built.serviceAccount, 'operator@p.iam.gserviceaccount.com');
    assert.deepEqual(built.containers?.[0], { name: 'proxy', image: 'envoy:1' });
    assert.deepEqual(serving?.volumeMounts, [{ name: 'certs', mountPath: '/certs' }]);
    assert.equal(serving?.name, 'serving');
    assert.equal(built.labels?.team, 'search');
    assert.equal(built.annotations?.['ops/owner'], 'a');
  });

  it('replaces what recdeploy owns in the container with a port, the serving one', () => {
    assert.equal(built.revision, 'rec-shop-r8');
    assert.equal(built.labels?.run_number, '8');
    assert.equal(serving?.image, 'tensorflow/serving:2.17.0');
    assert.deepEqual(built.scaling, { minInstanceCount: 0, maxInstanceCount: 10 });
    assert.deepEqual(serving?.resources, {
      limits: { cpu: '2', memory: '4Gi', 'nvidia.com/gpu': '1' },
      cpuIdle: true,
      startupCpuBoost: true,
    });
    assert.equal(serving?.startupProbe?.httpGet?.path, '/v1/models/shop');
  });

  it('lets recdeploy’s env vars win by name, keeps the operator’s, drops its own stale ones', () => {
    assert.deepEqual(serving?.env, [
      { name: 'MODEL_NAME', value: 'shop' },
      { name: 'MODEL_PATH', value: 'gs://b/m/8' },
      { name: 'API_KEY', valueSource: SECRET },
    ]);
    assert.equal(built.annotations?.[ENV_NAMES_ANNOTATION], 'MODEL_NAME,MODEL_PATH');
  });

  it('names the configured service account over the operator’s', () => {
    const account = 'serve@p.iam.gserviceaccount.com';
    const own = buildRevisionTemplate(spec(), { serviceAccount: account }, operated);
    assert.equal(own.serviceAccount, account);
  });

  it('gives the same template back when built over its own result (a retried deploy)', () => {
    const again = buildRevisionTemplate(spec(), {}, structuredClone(built));
    assert.equal(JSON.stringify(again), JSON.stringify(built));
    const fresh = buildRevisionTemplate(spec());
    assert.equal(
      JSON.stringify(buildRevisionTemplate(spec(), {}, structuredClone(fresh))),
      JSON.stringify(fresh),
    );
  });
});
