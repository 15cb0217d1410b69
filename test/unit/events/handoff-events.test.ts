import assert from 'node:assert/strict';
import {
  buildDeploymentFinishedV1,
  buildModelDeployedV1,
  buildModelRegisteredV1,
  buildTrainingCompletedV1,
  EventContractError,
  parseDeploymentFinished,
  parseModelDeployed,
  parseModelRegistered,
  type ParseResult,
  type TrainingCompletedV1,
} from '@recdeploy/events';
import { messagePublished } from '../../fixtures/events/deliveries.js';
import { example } from '../../fixtures/events/examples.js';

interface HandoffCase {
  readonly name: string;
  readonly parse: (ce: unknown) => ParseResult<{ idempotencyKey: string; message: object }>;
  /** A field change that breaks the contract, and the reason it must produce. */
  readonly breakIt: (payload: Record<string, unknown>) => void;
  readonly reason: RegExp;
}

const cases: readonly HandoffCase[] = [
  {
    name: 'model-registered',
    parse: parseModelRegistered,
    breakIt: (p) => (p.registry = { model: 'projects/p/locations/l/models/1' }),
    reason: /^\/registry\/version: is required$/,
  },
  {
    name: 'model-deployed',
    parse: parseModelDeployed,
    breakIt: (p) => (p.tag_url = 'ftp://x'),
    reason:
      /^\/tag_url: does not have the expected form \(.*http:\/\/ or https:\/\/ URL\), got "ftp:\/\/x"$/,
  },
  {
    name: 'deployment-finished',
    parse: parseDeploymentFinished,
    breakIt: (p) => (p.outcome = 'done'),
    reason: /^\/outcome: Expected one of 'live', 'failed', 'rolled_back', 'skipped', got "done"$/,
  },
];

describe('hand-off events (model-registered, model-deployed, deployment-finished)', () => {
  for (const { name, parse, breakIt, reason } of cases) {
    describe(name, () => {
      it('accepts the example, keyed by run id, and keeps unknown fields', () => {
        const payload = { ...example(`${name}.v1`), added_later: { by: 'v1.1 publisher' } };
        const result = parse(messagePublished(payload));
        if (!result.ok) assert.fail(result.rejection.reason);
        assert.equal(result.value.idempotencyKey, 'ep-1-run-42');
        assert.deepEqual(result.value.message, payload);
      });

      it('rejects a contract violation precisely, with the run id as key', () => {
        const payload = example(`${name}.v1`);
        breakIt(payload);
        const result = parse(messagePublished(payload));
        if (result.ok) assert.fail('expected a rejection');
        assert.equal(result.rejection.code, 'EVENT.INVALID');
        assert.equal(result.rejection.kind, `${name} message`);
        const prefix = `invalid ${name} message: `;
        assert.ok(result.rejection.reason.startsWith(prefix), result.rejection.reason);
        assert.match(result.rejection.reason.slice(prefix.length), reason);
        assert.equal(result.rejection.idempotencyKey, 'ep-1-run-42');
        assert.equal(result.rejection.eventId, '9812345678901234');
      });

      it('has no key to offer when run_id itself is unusable', () => {
        const payload = { ...example(`${name}.v1`), run_id: 'a/b' };
        const result = parse(messagePublished(payload));
        if (result.ok) assert.fail('expected a rejection');
        assert.match(result.rejection.reason, new RegExp(`^invalid ${name} message: /run_id: `));
        assert.equal(result.rejection.idempotencyKey, undefined);
      });
    });
  }

  it('accepts the failed deployment-finished example without service_url', () => {
    const result = parseDeploymentFinished(
      messagePublished(example('deployment-finished.v1.failed')),
    );
    assert.ok(result.ok && result.value.message.outcome === 'failed');
    assert.equal(result.value.message.service_url, undefined);
  });
});

describe('builders', () => {
  it('set schema_version and return the validated message', () => {
    const built = buildModelDeployedV1({
      run_id: 'ep-1-run-42',
      service: 'recs-two-tower',
      revision: 'recs-two-tower-run-42',
      tag_url: 'http://127.0.0.1:8501',
      runtime: 'ann_serving',
    });
    assert.equal(built.schema_version, '1');
    assert.equal(built.tag_url, 'http://127.0.0.1:8501');
  });

  const invalidBuilds: ReadonlyArray<[string, () => unknown, RegExp]> = [
    [
      'training-completed with a bad URI',
      () =>
        buildTrainingCompletedV1({
          ...(example('training-completed.v1') as Omit<TrainingCompletedV1, 'schema_version'>),
          artifact_uri: 's3://b/m',
        }),
      /training-completed v1 event breaks its contract: \/artifact_uri: /,
    ],
    [
      'model-registered with an empty version',
      () => buildModelRegisteredV1({ run_id: 'r', registry: { model: 'm', version: '' } }),
      /\/registry\/version: Expected string length greater or equal to 1/,
    ],
    [
      'deployment-finished with a negative latency',
      () =>
        buildDeploymentFinishedV1({
          run_id: 'r',
          training_run_id: 't',
          model_endpoint_id: 'e',
          outcome: 'live',
          verification: { passed: true, checks: [], latency_p99_ms: -1 },
        }),
      /\/verification\/latency_p99_ms: Expected number to be greater or equal to 0/,
    ],
  ];
  for (const [name, build, reason] of invalidBuilds) {
    it(`throw EventContractError for ${name}`, () => {
      assert.throws(build, (error: unknown) => {
        assert.ok(error instanceof EventContractError);
        assert.equal(error.code, 'EVENT.INVALID');
        assert.match(error.message, reason);
        return true;
      });
    });
  }
});
