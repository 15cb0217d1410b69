import assert from 'node:assert/strict';
import { formatVocabulary, parseVocabulary } from '@recdeploy/shared/ann';

describe('vocabulary files', () => {
  it('reads one token per line; the final newline ends the last line', () => {
    assert.deepEqual(parseVocabulary('Warsaw\nKrakow\n'), { tokens: ['Warsaw', 'Krakow'] });
    assert.deepEqual(parseVocabulary('Warsaw\nKrakow'), { tokens: ['Warsaw', 'Krakow'] });
  });

  it("drops a trailing '\\r' as TensorFlow's line reader does", () => {
    assert.deepEqual(parseVocabulary('a\r\nb\r\n'), { tokens: ['a', 'b'] });
  });

  it('keeps spaces inside tokens', () => {
    assert.deepEqual(parseVocabulary(' a b \n'), { tokens: [' a b '] });
  });

  it('refuses an empty file and a repeated token, naming the lines', () => {
    assert.match(String((parseVocabulary('') as { problem: string }).problem), /is empty/);
    assert.deepEqual(parseVocabulary('a\nb\na\n'), {
      problem: 'token "a" appears on lines 1 and 3',
    });
  });

  it('round-trips through formatVocabulary and refuses tokens with line breaks', () => {
    assert.deepEqual(parseVocabulary(formatVocabulary(['x', 'y z'])), { tokens: ['x', 'y z'] });
    assert.throws(() => formatVocabulary(['a\nb']), /line break/);
    assert.throws(() => formatVocabulary([]), /at least one token/);
  });
});
