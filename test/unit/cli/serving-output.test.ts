/**
 * The CLI's output about what serves: the runs table's TRAFFIC and NOTES,
 * and `status` with the serving record of the run's service.
 */
import assert from 'node:assert/strict';
import { describeRun } from '../../../cli/src/output/run-details.js';
import { runsTable } from '../../../cli/src/output/runs-table.js';
import {
  NINE_SERVES,
  R9,
  liveNine,
  liveRun,
  receivedRun,
  replacedSeven,
  servingRecord,
} from './run-documents.js';

const NOW = new Date('2030-01-01T10:05:00.000Z');
describe('CLI output about what serves', () => {
  describe('runsTable', () => {
    it('gives each run its share from the serving record, and who replaced a replaced run', () => {
      const elsewhere = liveRun({
        runId: 'cart-train-1',
        modelEndpointId: 'cart',
        runNumber: 1,
        serving: { ...liveRun().serving!, service: 'rec-cart', revision: 'rec-cart-r1' },
      });
      const lines = runsTable(
        [liveNine(), replacedSeven(), elsewhere, receivedRun({ runId: 'home-train-10' })],
        [NINE_SERVES],
        NOW,
      );
      assert.deepEqual(
        lines.map((line) => line.split(/\s{2,}/)),
        [
          ['RUN', 'STATUS', 'ENDPOINT', 'RUN NO', 'RUNTIME', 'REVISION', 'TRAFFIC', 'AGE', 'NOTES'],
          ['home-train-9', 'live', 'home', '9', 'ann-serving/ann', R9, '100%', '3m'],
          [
            'home-train-7',
            'replaced',
            'home',
            '7',
            'ann-serving/ann',
            'rec-home-r7-abcd1234',
            '0%',
            '5m',
            'replaced by run home-train-9',
          ],
          // rec-cart has no serving record: nothing was observed, so no share is claimed.
          ['cart-train-1', 'live', 'cart', '1', 'ann-serving/ann', 'rec-cart-r1', '—', '5m'],
          ['home-train-10', 'received', 'home', '7', '-', '-', '-', '5m'],
        ],
      );
    });
  });

  describe('describeRun', () => {
    it('a replaced run: by whom, and which revision serves instead', () => {
      const lines = describeRun(replacedSeven(), NOW, NINE_SERVES);
      assert.deepEqual(lines.slice(1, 4), [
        'status    replaced (since 2m ago)',
        'replaced  by run home-train-9: a newer run took its traffic',
        `reason    replaced by run home-train-9: its revision ${R9} took the traffic (run home-train-9 verified and promoted)`,
      ]);
      assert.ok(
        lines.includes(
          `  traffic   0%: service rec-home serves revision ${R9} (run home-train-9) since 2030-01-01T10:03:00.000Z (2m ago); observed 2m ago`,
        ),
        lines.join('\n'),
      );
    });

    it('says so when nothing was observed serving the service, or nothing serves it', () => {
      const unknown = describeRun(liveRun(), NOW);
      assert.ok(
        unknown.includes(
          '  traffic   unknown: service rec-home has no serving record yet (nothing observed serving it)',
        ),
      );
      const nothing = describeRun(
        liveRun({ status: 'rolled_back' }),
        NOW,
        servingRecord({ liveRevision: undefined, liveRunId: undefined, traffic: [] }),
      );
      assert.ok(
        nothing.includes('  traffic   0%: nothing serves service rec-home; observed 3m ago'),
      );
    });
  });
});
