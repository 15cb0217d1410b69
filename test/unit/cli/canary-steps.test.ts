/**
 * How the CLI shows a canary (canary-steps.ts, canary-progress.ts), on
 * states made by the domain's functions (canary-states.ts): `status`'s
 * block, `status --watch`'s lines, and the runs table's note.
 */
import assert from 'node:assert/strict';
import type { CanaryState } from '@recdeploy/shared';
import { describeCanaryProgress } from '../../../cli/src/output/canary-progress.js';
import { describeCanary, stepLine } from '../../../cli/src/output/canary-steps.js';
import { describeRun } from '../../../cli/src/output/run-details.js';
import { runsTable } from '../../../cli/src/output/runs-table.js';
import { liveRun } from './run-documents.js';
import * as s from './canary-states.js';

const HEALTHY_SIDE_BY_SIDE =
  'canary: 1 203 req, errors 0.2%, p50 4 ms, p99 19 ms, degenerate 0.0%  | ' +
  'stable: 10 811 req, errors 0.1%, p50 4 ms, p99 18 ms, degenerate 0.0%';
const HEADER_TAIL = `revision ${s.CANARY_REV} against stable ${s.STABLE_REV} (run home-train-7)`;
const PLAN_LINE =
  '  plan      10% → 50% → 100%, each step held ≥ 300 s with ≥ 200 requests on each revision (aborted when still short after 3600 s)';

function failedSummary(state: CanaryState): string {
  const summary = state.steps[1]?.analysis?.summary ?? '';
  assert.ok(summary.startsWith('error ratio (5xx and time-outs) 10.0% on the canary'), summary);
  return summary;
}

describe('CLI canary output', () => {
  describe('describeCanary (status)', () => {
    it('shows a holding step with its window, both revisions’ metrics and the judgement so far', () => {
      assert.deepEqual(describeCanary(s.judging, s.at(47)), [
        `canary    holding step 1 of 2 (10% of traffic): ${HEADER_TAIL}`,
        PLAN_LINE,
        `  step 1/2  10%  held 42 s  ${HEALTHY_SIDE_BY_SIDE}  → judging… every metric within its limit so far; held 42 s of 300 s`,
      ]);
    });

    it('shows a step still moving, and one whose window has no reading yet', () => {
      assert.deepEqual(describeCanary(s.moving, s.at(3)).slice(2), [
        '  step 1/2  10%  moving traffic (decided 3.0 s ago)',
      ]);
      assert.equal(
        stepLine(s.held, 0, s.held.steps[0]!, s.at(12)),
        'step 1/2  10%  held 7.0 s  → judging… no metrics read yet',
      );
    });

    it('shows passed and failed steps, and the outcome with its reason', () => {
      const summary = failedSummary(s.aborted);
      assert.deepEqual(describeCanary(s.aborted, s.at(400)), [
        `canary    aborted: ${HEADER_TAIL}`,
        PLAN_LINE,
        `  step 1/2  10%  held 5 m 00 s  ${HEALTHY_SIDE_BY_SIDE}  → passed`,
        '  step 2/2  50%  held 1 m 00 s  canary: 900 req, errors 10.0%, p50 4.3 ms, p99 21 ms, degenerate -  | ' +
          `stable: 10 811 req, errors 0.1%, p50 4 ms, p99 18 ms, degenerate 0.0%  → failed: ${summary}`,
        `  outcome   aborted, decided at 2030-01-01T10:06:10.000Z (30s ago): step 2 of 2 (50% of traffic) failed: ${summary}`,
      ]);
      // Decided but not yet done: the phase says what is being made.
      assert.equal(
        describeCanary(s.failing, s.at(371))[0],
        `canary    aborting (moving all traffic back to the stable): ${HEADER_TAIL}`,
      );
      assert.match(
        describeCanary(s.failing, s.at(371)).at(-1) ?? '',
        /^ {2}outcome {3}aborting, decided at /,
      );
    });

    it('shows an operator’s request waiting for a tick, then carried out', () => {
      assert.equal(
        describeCanary(s.abortAsked, s.at(62)).at(-1),
        '  request   abort by alice via recdeploy abort at 2030-01-01T10:01:00.000Z (2s ago): waiting for the next canary tick',
      );
      assert.deepEqual(describeCanary(s.promotedByBob, s.at(70)).slice(2), [
        `  step 1/2  10%  held 1 m 00 s  ${HEALTHY_SIDE_BY_SIDE}  → promoted by the operator`,
        '  request   promote by bob via recdeploy promote at 2030-01-01T10:01:00.000Z (10s ago): carried out',
        '  outcome   promoted, decided at 2030-01-01T10:01:05.000Z (5s ago): promoted by bob via recdeploy promote at step 1 of 2 (10% of traffic), before the remaining steps',
      ]);
    });

    it('is part of `status` for a run with a canary, and only then', () => {
      const lines = describeRun(liveRun({ status: 'canary', canary: s.judging }), s.at(47));
      const start = lines.indexOf(`canary    holding step 1 of 2 (10% of traffic): ${HEADER_TAIL}`);
      assert.ok(start > 0, lines.join('\n'));
      assert.equal(lines[start - 1], '', 'a blank line before the block');
      assert.equal(lines.length, start + 3);
      assert.equal(
        describeRun(liveRun(), s.at(47)).some((line) => line.startsWith('canary')),
        false,
      );
    });
  });

  describe('describeCanaryProgress (status --watch)', () => {
    it('says each move once: steps decided, serving, first reading, verdicts, the outcome', () => {
      const now = s.at(400);
      const lines = (previous: CanaryState | undefined, next: CanaryState) =>
        describeCanaryProgress(previous, next, now);
      assert.deepEqual(lines(undefined, s.moving), [
        `canary: moving traffic for step 1 of 2 (10% of traffic), revision ${s.CANARY_REV} against stable ${s.STABLE_REV}`,
        'canary: step 1/2  10%  moving traffic (decided 6 m 40 s ago)',
      ]);
      assert.deepEqual(lines(s.moving, s.held), [
        'canary: step 1/2  10%  held 6 m 35 s  → judging… no metrics read yet',
      ]);
      assert.equal(lines(s.held, s.judging).length, 1, 'the first reading');
      const refreshed = { ...s.judging, seq: s.judging.seq + 1 };
      assert.deepEqual(lines(s.judging, refreshed), [], 'a refreshed reading is not news');
      assert.deepEqual(lines(s.judging, s.judging), []);
      assert.deepEqual(lines(s.judging, s.secondStep), [
        `canary: step 1/2  10%  held 5 m 00 s  ${HEALTHY_SIDE_BY_SIDE}  → passed`,
        'canary: step 2/2  50%  moving traffic (decided 1 m 35 s ago)',
      ]);
      const summary = failedSummary(s.failing);
      assert.deepEqual(
        lines(s.secondHeld, s.failing).at(-1),
        `canary: aborting, decided at 2030-01-01T10:06:10.000Z (30s ago): step 2 of 2 (50% of traffic) failed: ${summary}`,
      );
      assert.deepEqual(lines(s.failing, s.aborted), ['canary: aborted']);
    });

    it('says when an operator asked, and what the tick then decided', () => {
      const now = s.at(70);
      assert.deepEqual(describeCanaryProgress(s.judging, s.abortAsked, now), [
        'canary: abort requested by alice via recdeploy abort',
      ]);
      assert.deepEqual(describeCanaryProgress(s.abortAsked, s.abortDecided, now), [
        `canary: step 1/2  10%  held 1 m 00 s  ${HEALTHY_SIDE_BY_SIDE}  → aborted by the operator`,
        'canary: aborting, decided at 2030-01-01T10:01:05.000Z (5s ago): aborted by alice via recdeploy abort at step 1 of 2 (10% of traffic)',
      ]);
    });
  });

  describe('runsTable', () => {
    it('notes where a canary stands and a request not carried out yet', () => {
      const run = liveRun({ status: 'canary', canary: s.abortAsked });
      const [, row] = runsTable([run], [], s.at(70));
      assert.match(row ?? '', /canary {2}.* canary holding step 1\/2 \(10%\); abort requested$/);
      const ending = liveRun({ status: 'canary', canary: s.abortDecided });
      assert.match(runsTable([ending], [], s.at(70))[1] ?? '', /canary aborting$/);
    });
  });
});
