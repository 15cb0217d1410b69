import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  decodeHttpDelivery,
  decodePubSubCloudEvent,
  MAX_EXCERPT_CHARS,
  parseTrainingCompleted,
  REJECTION_CODES,
  type EventRejection,
} from '@recdeploy/events';
import {
  MALFORMED_CATEGORIES,
  malformedDelivery,
  type MalformedCase,
} from '../../fixtures/events/malformed-deliveries.js';

interface Outcome {
  readonly stage: MalformedCase['stage'] | 'accepted';
  readonly rejection?: EventRejection;
}

/** The chain a training-completed subscriber runs, stopping at the first rejection. */
function runChain({ headers, body }: MalformedCase['delivery']): Outcome {
  const http = decodeHttpDelivery(headers, body);
  if (!http.ok) return { stage: 'http', rejection: http.rejection };
  const pubsub = decodePubSubCloudEvent(http.value);
  const parsed = parseTrainingCompleted(http.value);
  if (!pubsub.ok) {
    // parseTrainingCompleted decodes the envelope itself and must reject it the
    // same way, saying first what arrived.
    assert.ok(!parsed.ok);
    const { kind, reason, ...rest } = parsed.rejection;
    const { reason: plain, ...plainRest } = pubsub.rejection;
    assert.deepEqual(rest, plainRest);
    assert.ok(kind !== undefined && reason.endsWith(plain), reason);
    return { stage: 'pubsub', rejection: pubsub.rejection };
  }
  if (parsed.ok) return { stage: 'accepted' };
  assert.ok(parsed.rejection.kind, 'a payload rejection says what arrived');
  // The fixtures describe the details, after "what it is: ".
  const details = parsed.rejection.reason.replace(WHAT_ARRIVED, '');
  return { stage: 'payload', rejection: { ...parsed.rejection, reason: details } };
}

/** The part of a payload rejection that says what arrived (explain-rejection.ts). */
const WHAT_ARRIVED =
  /^(invalid training-completed message|invalid Vertex PipelineJob log entry|.+? is not a training-completed message): /;

describe('fuzz: malformed training-completed deliveries', function () {
  this.timeout(120_000);

  it('1,000 generated deliveries are each rejected at the right stage, with a known code and a precise reason', () => {
    const categories = new Map<string, number>();
    const reasons = new Set<string>();
    fc.assert(
      fc.property(malformedDelivery, (malformed) => {
        const outcome = runChain(malformed.delivery);
        const label = `${malformed.category}: ${outcome.rejection?.reason ?? 'accepted'}`;
        assert.equal(outcome.stage, malformed.stage, label);
        const rejection = outcome.rejection;
        assert.ok(rejection, label);
        assert.ok(REJECTION_CODES.includes(rejection.code), label);
        assert.equal(rejection.code, malformed.code, label);
        assert.ok(rejection.reason.trim().length > 0, label);
        assert.match(rejection.reason, malformed.reason, label);
        assert.ok((rejection.excerpt?.length ?? 0) <= MAX_EXCERPT_CHARS, label);
        categories.set(malformed.category, (categories.get(malformed.category) ?? 0) + 1);
        reasons.add(rejection.reason);
      }),
      { numRuns: 1000, seed: 20260119 },
    );
    // The generator really varies: every category occurs, and reasons differ widely.
    assert.equal(categories.size, MALFORMED_CATEGORIES, JSON.stringify([...categories]));
    for (const [category, count] of categories)
      assert.ok(count >= 20, `${category} occurred ${count} times`);
    assert.ok(reasons.size >= 300, `only ${reasons.size} distinct reasons`);
  });
});
