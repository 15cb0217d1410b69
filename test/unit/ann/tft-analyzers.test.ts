import assert from 'node:assert/strict';
import { tftMeanAndStd, tftVocabulary } from '@recdeploy/shared/ann';

describe('TFT analyzers', () => {
  it('orders a vocabulary by decreasing frequency, ties in reverse lexicographical order', () => {
    // TFT's documented example: [('a', 5), ('c', 3), ('b', 3)].
    const values = ['b', 'a', 'c', 'a', 'b', 'a', 'c', 'a', 'b', 'a', 'c'];
    assert.deepEqual(tftVocabulary(values), ['a', 'c', 'b']);
  });

  it('compares ties by UTF-8 bytes, not by UTF-16 code units', () => {
    // U+FF21 is EF BC A1 in UTF-8 and U+1F600 is F0 9F 98 80: by bytes the emoji is
    // larger (first in reverse order); by UTF-16 units (0xFF21 > 0xD83D) it would not be.
    assert.deepEqual(tftVocabulary(['\uFF21', '\u{1F600}']), ['\u{1F600}', '\uFF21']);
  });

  it('computes the mean and the population standard deviation', () => {
    const { mean, std } = tftMeanAndStd([2, 4, 4, 4, 5, 5, 7, 9]);
    assert.equal(mean, 5);
    assert.equal(std, 2);
  });

  it('uses std 1 for a constant column, which yields x - mean as TFT does', () => {
    assert.deepEqual(tftMeanAndStd([3, 3, 3]), { mean: 3, std: 1 });
  });

  it('refuses an empty column', () => {
    assert.throws(() => tftMeanAndStd([]), /at least one value/);
  });
});
