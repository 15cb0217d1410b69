import assert from 'node:assert/strict';
import { AdmissionController } from '../../../services/ann-serving/src/admission/admission-controller.js';

/** A controller on a hand-driven clock, with the two delay sources set by the test. */
function controller(options = { targetMs: 10, intervalMs: 100 }) {
  const state = { now: 1000, lagMs: 0, queuedMs: 0 };
  const admission = new AdmissionController(
    options,
    () => state.lagMs,
    () => state.now,
  );
  admission.watchQueue(() => state.queuedMs);
  return { admission, state };
}

describe('ann-serving admission controller', () => {
  it('admits everything while the delay estimate stays at or under the target', () => {
    const { admission, state } = controller();
    for (let t = 0; t < 1000; t += 10) {
      state.now = 1000 + t;
      state.lagMs = t % 20 === 0 ? 10 : 3;
      assert.equal(admission.admit(), undefined);
    }
    assert.equal(admission.shedding, false);
  });

  it('tolerates a burst above the target for one interval, then sheds, naming the larger delay', () => {
    const { admission, state } = controller();
    state.lagMs = 40;
    for (let t = 0; t < 100; t += 10) {
      state.now = 1000 + t;
      assert.equal(admission.admit(), undefined, `a burst ${t} ms old is tolerated`);
    }
    state.now = 1100;
    assert.equal(admission.admit(), 'event_loop');
    assert.equal(admission.shedding, true);
    state.lagMs = 2;
    state.queuedMs = 30;
    assert.equal(admission.admit(), 'queue_delay');
    assert.equal(admission.estimatedDelayMs(), 30);
  });

  it('once shedding, refuses every excursion above target at once until an interval passes without shedding', () => {
    const { admission, state } = controller();
    state.lagMs = 50;
    admission.admit();
    state.now += 100;
    assert.equal(admission.admit(), 'event_loop');
    // Back under the target: admitted again at once.
    state.now += 5;
    state.lagMs = 4;
    assert.equal(admission.admit(), undefined);
    // Over it again within the interval: no new burst allowance.
    state.now += 5;
    state.lagMs = 12;
    assert.equal(admission.admit(), 'event_loop');
    // A calm interval later, a new excursion is a burst again.
    state.lagMs = 4;
    state.now += 150;
    assert.equal(admission.admit(), undefined);
    assert.equal(admission.shedding, false);
    state.lagMs = 60;
    assert.equal(admission.admit(), undefined);
  });

  it('at dequeue, refuses what waited longer than the interval, and counts that as shedding', () => {
    const { admission, state } = controller();
    assert.equal(admission.shedAtDequeue(100), false, 'a burst may wait up to the interval');
    assert.equal(admission.shedding, false);
    assert.equal(admission.shedAtDequeue(101), true);
    assert.equal(admission.shedding, true, 'a refusal at dequeue counts as shedding');
    // So the next excursion above the target is shed at the door at once.
    state.lagMs = 30;
    assert.equal(admission.admit(), 'event_loop');
    state.now += 101;
    state.lagMs = 0;
    assert.equal(admission.shedding, false);
  });

  it('does nothing with a target of 0 (off)', () => {
    const { admission, state } = controller({ targetMs: 0, intervalMs: 100 });
    state.lagMs = 10_000;
    for (let t = 0; t < 5; t++) {
      state.now += 1000;
      assert.equal(admission.admit(), undefined);
    }
    assert.equal(admission.shedAtDequeue(60_000), false);
  });

  it('does not count the wait for the batch in progress as queueing: the bound is target + recent batch time', () => {
    const { admission, state } = controller();
    for (let i = 0; i < 50; i++) admission.observeBatch(30);
    assert.ok(Math.abs(admission.thresholdMs - 40) < 0.5, String(admission.thresholdMs));
    state.lagMs = 35; // one 30 ms batch plus a little: not overload
    for (let t = 0; t <= 300; t += 10) {
      state.now = 1000 + t;
      assert.equal(admission.admit(), undefined);
    }
    state.lagMs = 60; // well beyond it, for an interval: shed
    admission.admit();
    state.now += 100;
    assert.equal(admission.admit(), 'event_loop');
  });

  it('forgets an excursion after a quiet interval with no requests to measure', () => {
    const { admission, state } = controller();
    state.lagMs = 40;
    assert.equal(admission.admit(), undefined, 'a burst begins');
    state.now += 5000; // no request for 5 s, then another stall
    assert.equal(admission.admit(), undefined, 'a new burst, not a standing queue');
    state.now += 100;
    assert.equal(admission.admit(), 'event_loop');
  });
});
