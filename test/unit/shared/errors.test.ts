import assert from 'node:assert/strict';
import {
  ConfigError,
  PermanentError,
  TransientError,
  deliveryDecisionFor,
  toRecdeployError,
  truncateText,
} from '@recdeploy/shared';

describe('errors', () => {
  const cases: ReadonlyArray<[string, unknown, 'ack' | 'retry']> = [
    ['a permanent error is acknowledged', new PermanentError('EVENT.INVALID', 'bad'), 'ack'],
    ['a config error is acknowledged', new ConfigError(['X is missing']), 'ack'],
    ['a transient error is retried', new TransientError('DEPENDENCY.UNAVAILABLE', '503'), 'retry'],
    ['an unknown Error is retried (nothing lost)', new Error('boom'), 'retry'],
    ['a thrown string is retried', 'boom', 'retry'],
  ];
  for (const [name, error, expected] of cases) {
    it(name, () => assert.equal(deliveryDecisionFor(error), expected));
  }

  it('keeps the cause and code when wrapping an unknown error', () => {
    const cause = new Error('socket hang up');
    const wrapped = toRecdeployError(cause);
    assert.equal(wrapped.code, 'INTERNAL');
    assert.equal(wrapped.cause, cause);
    assert.equal(wrapped.message, 'socket hang up');
  });

  it('lists every configuration problem in one message', () => {
    const error = new ConfigError(['PROJECT is missing', 'PORT must be a number']);
    assert.match(error.message, /PROJECT is missing[\s\S]*PORT must be a number/);
    assert.deepEqual(error.problems, ['PROJECT is missing', 'PORT must be a number']);
  });

  it('truncates long text to the limit and says how much was cut', () => {
    const text = 'x'.repeat(5000);
    const cut = truncateText(text, 200);
    assert.equal(cut.length, 200);
    assert.match(cut, /more chars\]$/);
    assert.equal(truncateText('short', 200), 'short');
  });
});
