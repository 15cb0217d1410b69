/** How `status --watch` describes each change of a run. */
import assert from 'node:assert/strict';
import type { RunDocument } from '@recdeploy/shared';
import { describeProgress } from '../../../cli/src/output/run-progress.js';
import { liveRun, receivedRun } from './run-documents.js';

const NOW = new Date('2030-01-01T10:05:00.000Z');

describe('CLI watch progress', () => {
  describe('describeProgress', () => {
    const received = receivedRun();
    const registering: RunDocument = {
      ...received,
      status: 'registering',
      steps: {
        ...received.steps,
        register: { status: 'in_progress', attempts: 1, startedAt: '2030-01-01T10:00:00.000Z' },
      },
    };

    it('describes a first sight, status moves, attempts, successes and retries', () => {
      assert.deepEqual(describeProgress(undefined, registering, NOW), [
        'home-train-7 is registering',
        'register: attempt 1 running',
      ]);
      assert.deepEqual(describeProgress(received, registering, NOW), [
        'received → registering',
        'register: attempt 1 started',
      ]);
      const released: RunDocument = {
        ...registering,
        steps: {
          ...registering.steps,
          register: {
            status: 'pending',
            attempts: 1,
            startedAt: '2030-01-01T10:00:00.000Z',
            error: { code: 'DEPENDENCY.UNAVAILABLE', message: 'registry answered 503' },
          },
        },
      };
      assert.deepEqual(describeProgress(registering, released, NOW), [
        'register: attempt 1 failed, will be retried: DEPENDENCY.UNAVAILABLE: registry answered 503',
      ]);
      const retried: RunDocument = {
        ...released,
        steps: {
          ...released.steps,
          register: { ...released.steps.register, status: 'in_progress', attempts: 2 },
        },
      };
      assert.deepEqual(describeProgress(released, retried, NOW), ['register: attempt 2 started']);
      const registered: RunDocument = {
        ...retried,
        status: 'registered',
        steps: {
          ...retried.steps,
          register: {
            status: 'succeeded',
            attempts: 2,
            startedAt: '2030-01-01T10:00:00.000Z',
            endedAt: '2030-01-01T10:00:02.500Z',
          },
        },
      };
      assert.deepEqual(describeProgress(retried, registered, NOW), [
        'registering → registered',
        'register: succeeded in 2.5 s (2 attempts)',
      ]);
      assert.deepEqual(describeProgress(registered, registered, NOW), [], 'no change, no line');
    });

    it('says why a run ended and where a live run serves', () => {
      const verifying = liveRun({
        status: 'verifying',
        serving: { ...liveRun().serving!, url: undefined },
        steps: { ...liveRun().steps, verify: { status: 'in_progress', attempts: 1 } },
      });
      assert.deepEqual(describeProgress(verifying, liveRun(), NOW), [
        'verifying → live',
        'verify: succeeded in 19 s (1 attempt)',
        'serving at http://127.0.0.1:4100 (revision rec-home-r7-abcd1234)',
      ]);
      const failed = liveRun({
        status: 'failed',
        statusReason: 'VERIFY.FAILED: latency',
        steps: {
          ...liveRun().steps,
          verify: {
            status: 'failed',
            attempts: 1,
            error: { code: 'VERIFY.FAILED', message: 'latency' },
          },
        },
      });
      assert.deepEqual(describeProgress(verifying, failed, NOW), [
        'verifying → failed: VERIFY.FAILED: latency',
        'verify: failed after 1 attempt: VERIFY.FAILED: latency',
      ]);
    });
  });
});
