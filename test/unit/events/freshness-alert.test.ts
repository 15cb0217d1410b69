import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Ajv } from 'ajv';
import {
  buildFreshnessAlertV1,
  EVENT_CONTRACTS,
  FRESHNESS_ALERT_TOPIC,
  freshnessAlertV1Contract,
  parseFreshnessAlertV1,
  type FreshnessAlertV1,
} from '@recdeploy/events';

const require = createRequire(import.meta.url);
const example = (state: 'breached' | 'resolved'): FreshnessAlertV1 =>
  require(`@recdeploy/events/examples/freshness-alert.v1.${state}.json`) as FreshnessAlertV1;

describe('freshness-alert v1 contract', () => {
  const validate = new Ajv({ allErrors: true }).compile(
    require('@recdeploy/events/schemas/freshness-alert.v1.json') as object,
  );

  it('is published on freshness-alerts, in EVENT_CONTRACTS', () => {
    assert.equal(freshnessAlertV1Contract.topic, FRESHNESS_ALERT_TOPIC);
    assert.equal(FRESHNESS_ALERT_TOPIC, 'freshness-alerts');
    assert.ok(EVENT_CONTRACTS.includes(freshnessAlertV1Contract));
    assert.equal(freshnessAlertV1Contract.schemaFile, 'freshness-alert.v1.json');
  });

  it('parses both examples, and the builder accepts them', () => {
    for (const state of ['breached', 'resolved'] as const) {
      const parsed = parseFreshnessAlertV1(example(state));
      assert.ok(parsed.ok, state);
      assert.equal(parsed.value.state, state);
      const { schema_version: version, ...fields } = example(state);
      assert.equal(version, '1');
      assert.deepEqual(buildFreshnessAlertV1(fields), example(state));
    }
  });

  const cases: ReadonlyArray<[string, (p: Record<string, unknown>) => void, boolean]> = [
    ['unchanged', () => {}, true],
    ['extra fields', (p) => (p.x_extra = 1), true],
    ['an unknown kind', (p) => (p.kind = 'max_size'), false],
    ['an unknown state', (p) => (p.state = 'open'), false],
    ['a zero threshold', (p) => (p.threshold_s = 0), false],
    ['a fractional threshold', (p) => (p.threshold_s = 1.5), false],
    ['no alert_id', (p) => delete p.alert_id, false],
    ['an alert_id with a slash', (p) => (p.alert_id = 'a/b'), false],
    ['a breached_since without zone', (p) => (p.breached_since = '2026-01-19T16:49:46'), false],
    ['no detail', (p) => delete p.detail, false],
    ['schema_version 2', (p) => (p.schema_version = '2'), false],
  ];

  it('the TypeScript parser and ajv on the published file agree on accept/reject', () => {
    for (const [name, change, expected] of cases) {
      const payload: Record<string, unknown> = structuredClone({ ...example('breached') });
      change(payload);
      assert.equal(parseFreshnessAlertV1(payload).ok, expected, `parser: ${name}`);
      assert.equal(validate(payload), expected, `ajv: ${name}`);
    }
  });

  it('a rejected payload still names its alert_id, and the builder refuses what breaks the contract', () => {
    const parsed = parseFreshnessAlertV1({ ...example('resolved'), kind: 'x' });
    assert.equal(parsed.ok, false);
    assert.equal(!parsed.ok && parsed.rejection.idempotencyKey, example('resolved').alert_id);
    const { schema_version: version, ...fields } = example('breached');
    assert.equal(version, '1');
    assert.throws(
      () => buildFreshnessAlertV1({ ...fields, threshold_s: -1 }),
      /freshness-alert v1/,
    );
  });
});
