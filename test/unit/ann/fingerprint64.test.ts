import assert from 'node:assert/strict';
import { fingerprint64 } from '@recdeploy/shared/ann';

// FarmHash's own test vectors for farmhashna::Hash64 (= Fingerprint64), one or
// more per code path: 0–16, 17–32, 33–64 and > 64 bytes (one and several loops).
const VECTORS: ReadonlyArray<[string, bigint]> = [
  ['', 0x9ae16a3b2f90404fn],
  ['a', 0xb3454265b6df75e3n],
  ['abc', 0x24a5b3a074e7f369n],
  ['abcd', 0x1a5502de4a1f8101n],
  ['abcdefgh', 0xfee9d22990c82909n],
  ['abcdefghi', 0x332c8ed4dae5ba42n],
  ["0123456789'01234", 0x4283d4ef43627f64n],
  ['0123456789=012345', 0x46a7416ed4861e3bn],
  ['0123456789%0123456789£', 0x4dbd128af51d77e8n],
  ['C is as portable as Stonehedge!!', 0xb944f8a16261e414n],
  ['Discard medicine more than two years old.', 0xe8f89ab6df9bdd25n],
  ['For every action there is an equal and opposite government program.', 0x55182f8859eca4cen],
  [
    'The fugacity of a constituent in a mixture of gases at a given temperature is proportional to its mole fraction.  Lewis-Randall Rule',
    0x098eff6958c5e91an,
  ],
];

describe('fingerprint64 (FarmHash Fingerprint64)', () => {
  for (const [input, expected] of VECTORS) {
    it(`matches FarmHash for ${Buffer.byteLength(input)} bytes`, () => {
      assert.equal(fingerprint64(input), expected);
    });
  }

  it('matches the buckets of TensorFlow string_to_hash_bucket_fast(["a","b","c","d"], 10)', () => {
    // tensorflow/python/kernel_tests/strings_ops/string_to_hash_bucket_op_test.py
    assert.deepEqual(
      ['a', 'b', 'c', 'd'].map((s) => Number(fingerprint64(s) % 10n)),
      [9, 2, 2, 5],
    );
  });

  it('hashes raw bytes the same as the UTF-8 string', () => {
    const text = 'Kraków';
    assert.equal(fingerprint64(new TextEncoder().encode(text)), fingerprint64(text));
  });
});
