/** When the CLI colours its output, and that colour never shifts a table's columns. */
import assert from 'node:assert/strict';
import { colourWanted, plain, statusPaint } from '../../../cli/src/output/colour.js';
import { renderTable } from '../../../cli/src/output/table.js';

describe('CLI colour', () => {
  it('colours a terminal only, unless NO_COLOR or FORCE_COLOR say otherwise', () => {
    assert.equal(colourWanted({}, true), true);
    assert.equal(colourWanted({}, false), false);
    assert.equal(colourWanted({ CI: 'true' }, false), false, 'CI is no reason to colour a pipe');
    assert.equal(colourWanted({ TERM: 'dumb' }, true), false);
    assert.equal(colourWanted({ FORCE_COLOR: '1' }, false), true);
    assert.equal(colourWanted({ FORCE_COLOR: '0' }, true), false);
    assert.equal(colourWanted({ FORCE_COLOR: 'false' }, true), false);
    assert.equal(colourWanted({ NO_COLOR: '1' }, true), false);
    assert.equal(colourWanted({ NO_COLOR: '1', FORCE_COLOR: '1' }, true), false, 'NO_COLOR wins');
    assert.equal(colourWanted({ NO_COLOR: '' }, true), true, 'an empty NO_COLOR is unset');
  });

  it('paints statuses by meaning, and nothing when off', () => {
    const paint = statusPaint(true);
    assert.equal(paint('live'), '\u001b[32mlive\u001b[39m');
    assert.equal(paint('failed'), '\u001b[31mfailed\u001b[39m');
    assert.equal(paint('rolled_back'), '\u001b[31mrolled_back\u001b[39m');
    assert.equal(paint('canary'), '\u001b[33mcanary\u001b[39m');
    assert.equal(paint('verifying'), '\u001b[33mverifying\u001b[39m');
    assert.equal(paint('replaced'), '\u001b[2mreplaced\u001b[22m');
    assert.equal(paint('skipped'), '\u001b[2mskipped\u001b[22m');
    assert.equal(paint('received'), 'received');
    assert.equal(statusPaint(false)('live'), 'live');
    assert.equal(plain('failed'), 'failed');
  });

  it('aligns coloured cells as if they were plain', () => {
    const paint = statusPaint(true);
    const columns = [{ header: 'STATUS' }, { header: 'N', align: 'right' as const }];
    const coloured = renderTable(columns, [
      [paint('live'), '1'],
      [paint('rolled_back'), '22'],
    ]);
    const uncoloured = renderTable(columns, [
      ['live', '1'],
      ['rolled_back', '22'],
    ]);
    // eslint-disable-next-line no-control-regex
    const strip = (line: string) => line.replace(/\u001b\[\d+m/g, '');
    assert.deepEqual(coloured.map(strip), uncoloured);
  });
});
