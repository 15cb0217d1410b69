/**
 * The operator's deployment policy (shared/domain/deployment-policy.ts): every
 * bounded field below, at and above its limit, public services allowed and
 * refused, per-endpoint limits, and Cloud Run quantities compared by value.
 * The policies come from loadChainConfig, so the DEPLOY_* defaults are the
 * ones under test.
 */
import assert from 'node:assert/strict';
import { DeploymentConfigV1Schema } from '@recdeploy/events';
import {
  DEFAULT_RESOURCES,
  PermanentError,
  checkDeploymentPolicy,
  cpuMillis,
  limitsFor,
  memoryBytes,
  policyViolations,
  type DeploymentConfig,
  type DeploymentPolicy,
} from '@recdeploy/shared';
import { loadChainConfig } from '@recdeploy/shared/chain';
import fc from 'fast-check';

const policyOf = (env: Record<string, string> = {}): DeploymentPolicy =>
  loadChainConfig(env).deploymentPolicy;
const defaults = policyOf().defaultLimits;
const fieldsOver = (config: DeploymentConfig, policy = policyOf(), endpoint = 'recs-home') =>
  policyViolations(limitsFor(policy, endpoint), config).map((v) => v.field);

describe('deployment policy', () => {
  it('defaults to private services only, 20 instances, 3 warm, 8Gi, 4 CPU, 300 s, 250 concurrent', () => {
    assert.equal(defaults.allowPublic, false);
    assert.equal(defaults.maxInstances, 20);
    assert.equal(defaults.minInstances, 3);
    assert.equal(defaults.memory, '8Gi');
    assert.equal(defaults.cpu, '4');
    assert.equal(defaults.timeoutS, 300);
    assert.equal(defaults.concurrency, 250);
    assert.deepEqual(fieldsOver({}), [], 'a run that asks for nothing fits the default policy');
  });

  const table: readonly [string, keyof DeploymentConfig, unknown, unknown, unknown][] = [
    // field, key, below, at, above the default limit
    ['min_instances', 'minInstances', 2, 3, 4],
    ['max_instances', 'maxInstances', 19, 20, 21],
    ['timeout_s', 'timeoutS', 299, 300, 301],
    ['concurrency', 'concurrency', 249, 250, 251],
    ['memory', 'memory', '8191Mi', '8Gi', '8193Mi'],
    ['cpu', 'cpu', '3999m', '4000m', '4001m'],
  ];
  for (const [field, key, below, at, above] of table) {
    it(`${field}: ${String(below)} and ${String(at)} fit, ${String(above)} is refused`, () => {
      assert.deepEqual(fieldsOver({ [key]: below }), []);
      assert.deepEqual(fieldsOver({ [key]: at }), []);
      assert.deepEqual(fieldsOver({ [key]: above }), [field]);
    });
  }

  it('compares quantities by value, whatever their unit', () => {
    assert.deepEqual(fieldsOver({ memory: '8192Mi', cpu: '4' }), [], '8192Mi is 8Gi');
    assert.deepEqual(fieldsOver({ memory: '8G' }), [], '8G (decimal) is below 8Gi');
    assert.deepEqual(fieldsOver({ memory: '9G' }), ['memory']);
    assert.deepEqual(fieldsOver({ memory: '8388609Ki' }), ['memory']);
    assert.deepEqual(fieldsOver({ cpu: '0.5' }), []);
    assert.deepEqual(fieldsOver({ cpu: '5' }), ['cpu']);
    assert.deepEqual(
      fieldsOver(
        { memory: '16Gi', cpu: '8' },
        policyOf({ DEPLOY_MEMORY_LIMIT: '16384Mi', DEPLOY_CPU_LIMIT: '8000m' }),
      ),
      [],
    );
  });

  it('refuses public: true unless DEPLOY_ALLOW_PUBLIC=true, and says so', () => {
    const [violation, ...rest] = policyViolations(defaults, { public: true });
    assert.deepEqual(rest, []);
    assert.deepEqual(violation, {
      field: 'public',
      asked: true,
      limit: false,
      setBy: 'DEPLOY_ALLOW_PUBLIC=false',
      reason:
        'deployment_config.public is true, but this chain does not allow public services (DEPLOY_ALLOW_PUBLIC=false)',
    });
    assert.deepEqual(fieldsOver({ public: false }), []);
    assert.deepEqual(fieldsOver({ public: true }, policyOf({ DEPLOY_ALLOW_PUBLIC: 'true' })), []);
  });

  it('names the value asked, the limit and the variable that sets it, for every field at once', () => {
    const asked: DeploymentConfig = {
      public: true,
      maxInstances: 1000,
      memory: '32Gi',
      timeoutS: 3600,
    };
    let thrown: unknown;
    try {
      checkDeploymentPolicy(policyOf(), 'recs-home', asked);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof PermanentError, String(thrown));
    assert.equal(thrown.code, 'DEPLOY.OUTSIDE_POLICY');
    assert.equal(thrown.retryable, false);
    assert.equal(thrown.metadata.fields, 'public,memory,max_instances,timeout_s');
    for (const part of [
      'deployment_config.public is true, but this chain does not allow public services (DEPLOY_ALLOW_PUBLIC=false)',
      "deployment_config.memory is 32Gi, above this chain's limit of 8Gi (DEPLOY_MEMORY_LIMIT=8Gi)",
      "deployment_config.max_instances is 1000, above this chain's limit of 20 (DEPLOY_MAX_INSTANCES_LIMIT=20)",
      "deployment_config.timeout_s is 3600, above this chain's limit of 300 (DEPLOY_TIMEOUT_S_LIMIT=300)",
    ]) {
      assert.ok(thrown.message.includes(part), `${part}\n  not in\n${thrown.message}`);
    }
    assert.doesNotThrow(() => checkDeploymentPolicy(policyOf(), 'recs-home', { maxInstances: 20 }));
  });

  it('applies DEPLOY_ENDPOINTS limits to their endpoint only, naming them in the reason', () => {
    const policy = policyOf({
      DEPLOY_ENDPOINTS: '{"home": {"allow_public": true, "max_instances": 100}}',
    });
    assert.deepEqual(fieldsOver({ public: true, maxInstances: 100 }, policy, 'home'), []);
    assert.deepEqual(fieldsOver({ public: true, maxInstances: 100 }, policy, 'other'), [
      'public',
      'max_instances',
    ]);
    const violations = policyViolations(limitsFor(policy, 'home'), { maxInstances: 101, cpu: '5' });
    const setBy = (field: string) => violations.find((v) => v.field === field)?.setBy;
    assert.equal(setBy('max_instances'), 'DEPLOY_ENDPOINTS.home.max_instances=100');
    assert.equal(
      setBy('cpu'),
      'DEPLOY_CPU_LIMIT=4',
      'what the endpoint does not set is the chain-wide limit',
    );
  });
});

describe('deployment policy variables', () => {
  const problemsOf = (env: Record<string, string>): string => {
    try {
      loadChainConfig(env);
    } catch (error) {
      return (error as Error).message;
    }
    return assert.fail('expected a ConfigError');
  };

  it('lists every malformed variable at once', () => {
    const message = problemsOf({
      DEPLOY_ALLOW_PUBLIC: 'yes',
      DEPLOY_MEMORY_LIMIT: 'lots',
      DEPLOY_CPU_LIMIT: '2 cores',
      DEPLOY_MAX_INSTANCES_LIMIT: '0',
      DEPLOY_CONCURRENCY_LIMIT: '1001',
    });
    for (const name of [
      'DEPLOY_ALLOW_PUBLIC="yes" is invalid: expected one of false, true',
      'DEPLOY_MEMORY_LIMIT="lots"',
      'DEPLOY_CPU_LIMIT="2 cores"',
      'DEPLOY_MAX_INSTANCES_LIMIT=0 is invalid',
      'DEPLOY_CONCURRENCY_LIMIT=1001 is invalid',
    ]) {
      assert.ok(message.includes(name), `${name}\n  not in\n${message}`);
    }
  });

  it('refuses limits below the defaults every run gets (they would refuse every run)', () => {
    const message = problemsOf({
      DEPLOY_MAX_INSTANCES_LIMIT: '5',
      DEPLOY_CPU_LIMIT: '1',
      DEPLOY_MEMORY_LIMIT: '2Gi',
      DEPLOY_ENDPOINTS: '{"home": {"timeout_s": 60}}',
    });
    for (const part of [
      `DEPLOY_MAX_INSTANCES_LIMIT=5 is below the default max_instances (${DEFAULT_RESOURCES.maxInstances})`,
      `DEPLOY_CPU_LIMIT=1 is below the default cpu (${DEFAULT_RESOURCES.cpu})`,
      `DEPLOY_MEMORY_LIMIT=2Gi is below the default memory (${DEFAULT_RESOURCES.memory})`,
      `DEPLOY_ENDPOINTS.home.timeout_s=60 is below the default timeout_s (${DEFAULT_RESOURCES.timeoutS})`,
    ]) {
      assert.ok(message.includes(part), `${part}\n  not in\n${message}`);
    }
    // The defaults themselves fit exactly: limits equal to them are accepted.
    assert.doesNotThrow(() =>
      loadChainConfig({
        DEPLOY_MAX_INSTANCES_LIMIT: String(DEFAULT_RESOURCES.maxInstances),
        DEPLOY_MIN_INSTANCES_LIMIT: '0',
        DEPLOY_MEMORY_LIMIT: DEFAULT_RESOURCES.memory,
        DEPLOY_CPU_LIMIT: DEFAULT_RESOURCES.cpu,
        DEPLOY_TIMEOUT_S_LIMIT: String(DEFAULT_RESOURCES.timeoutS),
        DEPLOY_CONCURRENCY_LIMIT: String(DEFAULT_RESOURCES.concurrency),
      }),
    );
  });

  it('says what is wrong with DEPLOY_ENDPOINTS', () => {
    assert.match(problemsOf({ DEPLOY_ENDPOINTS: '{home' }), /DEPLOY_ENDPOINTS is not JSON/);
    assert.match(
      problemsOf({ DEPLOY_ENDPOINTS: '{"home": {"max_instance": 50}}' }),
      /DEPLOY_ENDPOINTS\.home/,
    );
    assert.match(
      problemsOf({ DEPLOY_ENDPOINTS: '{"home": {"memory": "lots"}}' }),
      /DEPLOY_ENDPOINTS\.home\.memory/,
    );
    assert.match(
      problemsOf({ DEPLOY_ENDPOINTS: '{"a/b": {}}' }),
      /DEPLOY_ENDPOINTS: "a\/b" is not an endpoint id/,
    );
    // Any endpoint id a message may carry can be named.
    const policy = policyOf({ DEPLOY_ENDPOINTS: '{"Recs_Home.v2": {"allow_public": true}}' });
    assert.deepEqual(fieldsOver({ public: true }, policy, 'Recs_Home.v2'), []);
  });
});

describe('Cloud Run quantities', () => {
  it('reads memory in binary and decimal units, and CPU in cores or millicpu', () => {
    const table: [string, number | undefined][] = [
      ['512Mi', 512 * 1024 ** 2],
      ['4Gi', 4 * 1024 ** 3],
      ['2G', 2e9],
      ['1k', 1000],
      ['1048576', 1024 ** 2],
      ['4GB', undefined],
      ['-1Gi', undefined],
      ['Gi', undefined],
      ['', undefined],
    ];
    for (const [text, bytes] of table) assert.equal(memoryBytes(text), bytes, text);
    const cpus: [string, number | undefined][] = [
      ['2', 2000],
      ['0.5', 500],
      ['1000m', 1000],
      ['0.08', 80],
      ['1.5m', undefined],
      ['m', undefined],
      ['two', undefined],
    ];
    for (const [text, millis] of cpus) assert.equal(cpuMillis(text), millis, text);
  });

  it('reads every memory and CPU value the event schema accepts (none is deployed unread)', () => {
    const { memory, cpu } = DeploymentConfigV1Schema.properties;
    fc.assert(
      fc.property(
        fc.stringMatching(new RegExp(memory.pattern as string)),
        (text) => (memoryBytes(text) ?? -1) > 0,
      ),
    );
    fc.assert(
      fc.property(
        fc.stringMatching(new RegExp(cpu.pattern as string)),
        (text) => cpuMillis(text) !== undefined,
      ),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 }),
        (n) => memoryBytes(`${n}Gi`) === memoryBytes(`${n * 1024}Mi`),
      ),
    );
  });
});
