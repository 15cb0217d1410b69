import assert from 'node:assert/strict';
import {
  StreamLimits,
  type StreamAdmission,
} from '../../../services/dashboard/src/live/stream-limits.js';

function admitted(admission: StreamAdmission): () => void {
  assert.ok(admission.admitted, JSON.stringify(admission));
  return admission.release;
}

describe('dashboard event stream limits', () => {
  it('refuses a client beyond its share while others still get streams, and frees slots on release', () => {
    const limits = new StreamLimits({ perClient: 2, total: 3 });
    const first = admitted(limits.admit('a'));
    admitted(limits.admit('a'));
    assert.deepEqual(limits.admit('a'), { admitted: false, limit: 'client', open: 2, first: true });
    // Refused again: not the first refusal (logged once), until a slot frees.
    assert.deepEqual(limits.admit('a'), {
      admitted: false,
      limit: 'client',
      open: 2,
      first: false,
    });
    const other = admitted(limits.admit('b'));
    // The process's limit is the last guard: a third client finds it full.
    assert.deepEqual(limits.admit('c'), { admitted: false, limit: 'total', open: 3, first: true });
    first();
    first(); // releasing twice frees one slot, not two
    assert.equal(limits.openFrom('a'), 1);
    assert.equal(limits.open, 2);
    admitted(limits.admit('a'));
    assert.deepEqual(limits.admit('a'), { admitted: false, limit: 'client', open: 2, first: true });
    other();
    assert.equal(limits.openFrom('b'), 0);
    assert.equal(limits.open, 2);
  });
});
