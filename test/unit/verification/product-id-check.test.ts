import assert from 'node:assert/strict';
import {
  classifyIds,
  describeIdVerdict,
  productIdCatalogue,
} from '../../../shared/verification/index.js';

describe('verification product id classification', () => {
  const intIds = productIdCatalogue([1001, 1002, 1003, 1004, 1005, 1006], 'int64');
  const stringIds = productIdCatalogue(['P-1', 'P-2', '17', '3'], 'string');

  it('accepts original ids in any order', () => {
    assert.deepEqual(classifyIds([1004, 1001, 1006], intIds), { kind: 'original' });
    assert.deepEqual(classifyIds(['P-2', '17'], stringIds), { kind: 'original' });
    assert.deepEqual(classifyIds([], intIds), { kind: 'original' });
  });

  it('recognises row indices (integers in [0, N)) and says so', () => {
    const verdict = classifyIds([3, 0, 5, 1], intIds);
    assert.deepEqual(verdict, { kind: 'row_indices', unknownCount: 4, first: [3, 0, 5] });
    const text = describeIdVerdict(verdict, intIds);
    assert.match(
      text,
      /^product ids look like row or vocabulary indices, not original product ids/,
    );
    assert.match(text, /integers in \[0, 6\) \(3, 0, 5, …\) and 4 are not in product_ids\.json/);
    assert.match(text, /whose ids look like 1001, 1002, 1003/);
  });

  it('recognises row indices written as strings for string ids', () => {
    // "3" is a real id of this catalogue, "0" and "2" are not: still row indices.
    const verdict = classifyIds(['3', '0', '2'], stringIds);
    assert.equal(verdict.kind, 'row_indices');
    assert.equal(verdict.kind === 'row_indices' && verdict.unknownCount, 2);
  });

  it('does not call integers beyond N row indices', () => {
    assert.deepEqual(classifyIds([1001, 6], intIds), { kind: 'unknown', position: 1, id: 6 });
    assert.deepEqual(classifyIds([1001, 9999], intIds), { kind: 'unknown', position: 1, id: 9999 });
    assert.match(
      describeIdVerdict({ kind: 'unknown', position: 1, id: 9999 }, intIds),
      /^product id 9999 at position 1 is not in product_ids\.json \(6 ids such as 1001, 1002, 1003\)$/,
    );
  });

  it('is type-aware: "1001" is not the integer id 1001, 17 is not the string id "17"', () => {
    const asString = classifyIds([1001, '1002'], intIds);
    assert.deepEqual(asString, { kind: 'wrong_type', position: 1, id: '1002' });
    assert.equal(
      describeIdVerdict(asString, intIds),
      'product id "1002" at position 1 is a string, but product_id_dtype is int64: ' +
        'ids must keep their original type (the integer 1002 is in product_ids.json)',
    );
    const asNumber = classifyIds(['P-1', 17], stringIds);
    assert.deepEqual(asNumber, { kind: 'wrong_type', position: 1, id: 17 });
    assert.match(describeIdVerdict(asNumber, stringIds), /the string "17" is in product_ids\.json/);
  });

  it('reports values that are no ids at all, and duplicates', () => {
    assert.deepEqual(classifyIds([1001, null], intIds), {
      kind: 'not_an_id',
      position: 1,
      value: null,
    });
    assert.equal(
      describeIdVerdict({ kind: 'not_an_id', position: 1, value: null }, intIds),
      'position 1 holds null, not an integer product id',
    );
    const duplicate = classifyIds([1001, 1002, 1001], intIds);
    assert.deepEqual(duplicate, { kind: 'duplicate', position: 2, id: 1001, first: 0 });
    assert.equal(
      describeIdVerdict(duplicate, intIds),
      'product id 1001 appears twice, at positions 0 and 2',
    );
  });

  it('cannot tell row indices from ids when the ids are 0..N-1, and need not', () => {
    const identity = productIdCatalogue([0, 1, 2, 3], 'int64');
    assert.deepEqual(classifyIds([2, 0, 3], identity), { kind: 'original' });
  });
});
