/**
 * FarmHash Fingerprint64 (`farmhash::Fingerprint64`, i.e. `farmhashna::Hash64`),
 * the hash TensorFlow's `string_to_hash_bucket_fast` and TFT's vocabulary OOV
 * buckets use. A port of the reference C++ on unsigned 64-bit BigInt
 * arithmetic: fast enough for the few out-of-vocabulary tokens a request
 * carries, and exact, which is what matters: a token must land in the same
 * bucket at serving as it did when the model was trained in TensorFlow.
 * Checked against FarmHash's published test vectors for every length class.
 */

const MASK = (1n << 64n) - 1n;
const K0 = 0xc3a5c85c97cb3127n;
const K1 = 0xb492b66fbe98f273n;
const K2 = 0x9ae16a3b2f90404fn;
const KMUL = 0x9ddfea08eb382d69n;

const mul = (a: bigint, b: bigint): bigint => (a * b) & MASK;
const add = (...xs: bigint[]): bigint => xs.reduce((s, x) => s + x, 0n) & MASK;
const rotate = (v: bigint, s: bigint): bigint => ((v >> s) | (v << (64n - s))) & MASK;
const shiftMix = (v: bigint): bigint => v ^ (v >> 47n);

function hashLen16(u: bigint, v: bigint, m = KMUL): bigint {
  let a = mul(u ^ v, m);
  a ^= a >> 47n;
  let b = mul(v ^ a, m);
  b ^= b >> 47n;
  return mul(b, m);
}

/** Little-endian reads, as FarmHash's Fetch on x86/ARM. */
function reader(bytes: Uint8Array): { f64: (i: number) => bigint; f32: (i: number) => bigint } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return {
    f64: (i) => view.getBigUint64(i, true),
    f32: (i) => BigInt(view.getUint32(i, true)),
  };
}

function hashLen0to16(s: Uint8Array): bigint {
  const len = s.length;
  const { f64, f32 } = reader(s);
  if (len >= 8) {
    const m = add(K2, BigInt(len * 2));
    const a = add(f64(0), K2);
    const b = f64(len - 8);
    const c = add(mul(rotate(b, 37n), m), a);
    const d = mul(add(rotate(a, 25n), b), m);
    return hashLen16(c, d, m);
  }
  if (len >= 4) {
    const m = add(K2, BigInt(len * 2));
    const a = f32(0);
    return hashLen16(add(BigInt(len), a << 3n), f32(len - 4), m);
  }
  if (len > 0) {
    const y = BigInt(s[0]! + (s[len >> 1]! << 8));
    const z = BigInt(len + (s[len - 1]! << 2));
    return mul(shiftMix(mul(y, K2) ^ mul(z, K0)), K2);
  }
  return K2;
}

function hashLen17to32(s: Uint8Array): bigint {
  const len = s.length;
  const { f64 } = reader(s);
  const m = add(K2, BigInt(len * 2));
  const a = mul(f64(0), K1);
  const b = f64(8);
  const c = mul(f64(len - 8), m);
  const d = mul(f64(len - 16), K2);
  return hashLen16(
    add(rotate(add(a, b), 43n), rotate(c, 30n), d),
    add(a, rotate(add(b, K2), 18n), c),
    m,
  );
}

function hashLen33to64(s: Uint8Array): bigint {
  const len = s.length;
  const { f64 } = reader(s);
  const m = add(K2, BigInt(len * 2));
  const a = mul(f64(0), K2);
  const b = f64(8);
  const c = mul(f64(len - 8), m);
  const d = mul(f64(len - 16), K2);
  const y = add(rotate(add(a, b), 43n), rotate(c, 30n), d);
  const z = hashLen16(y, add(a, rotate(add(b, K2), 18n), c), m);
  const e = mul(f64(16), m);
  const f = f64(24);
  const g = mul(add(y, f64(len - 32)), m);
  const h = mul(add(z, f64(len - 24)), m);
  return hashLen16(
    add(rotate(add(e, f), 43n), rotate(g, 30n), h),
    add(e, rotate(add(f, a), 18n), g),
    m,
  );
}

type Pair = [bigint, bigint];

function weakHashLen32WithSeeds(
  f64: (i: number) => bigint,
  i: number,
  a0: bigint,
  b0: bigint,
): Pair {
  const [w, x, y, z] = [f64(i), f64(i + 8), f64(i + 16), f64(i + 24)];
  let a = add(a0, w);
  let b = rotate(add(b0, a, z), 21n);
  const c = a;
  a = add(a, x, y);
  b = add(b, rotate(a, 44n));
  return [add(a, z), add(b, c)];
}

function hashLongerThan64(s: Uint8Array): bigint {
  const len = s.length;
  const { f64 } = reader(s);
  const seed = 81n;
  let x = seed;
  let y = add(mul(seed, K1), 113n);
  let z = mul(shiftMix(add(mul(y, K2), 113n)), K2);
  let v: Pair = [0n, 0n];
  let w: Pair = [0n, 0n];
  x = add(mul(x, K2), f64(0));
  const end = Math.floor((len - 1) / 64) * 64;
  const last64 = len - 64;
  for (let i = 0; i !== end; i += 64) {
    x = mul(rotate(add(x, y, v[0], f64(i + 8)), 37n), K1);
    y = mul(rotate(add(y, v[1], f64(i + 48)), 42n), K1);
    x ^= w[1];
    y = add(y, v[0], f64(i + 40));
    z = mul(rotate(add(z, w[0]), 33n), K1);
    v = weakHashLen32WithSeeds(f64, i, mul(v[1], K1), add(x, w[0]));
    w = weakHashLen32WithSeeds(f64, i + 32, add(z, w[1]), add(y, f64(i + 16)));
    [z, x] = [x, z];
  }
  const m = add(K1, (z & 0xffn) << 1n);
  w[0] = add(w[0], BigInt((len - 1) & 63));
  v[0] = add(v[0], w[0]);
  w[0] = add(w[0], v[0]);
  x = mul(rotate(add(x, y, v[0], f64(last64 + 8)), 37n), m);
  y = mul(rotate(add(y, v[1], f64(last64 + 48)), 42n), m);
  x ^= mul(w[1], 9n);
  y = add(y, mul(v[0], 9n), f64(last64 + 40));
  z = mul(rotate(add(z, w[0]), 33n), m);
  v = weakHashLen32WithSeeds(f64, last64, mul(v[1], m), add(x, w[0]));
  w = weakHashLen32WithSeeds(f64, last64 + 32, add(z, w[1]), add(y, f64(last64 + 16)));
  [z, x] = [x, z];
  return hashLen16(
    add(hashLen16(v[0], w[0], m), mul(shiftMix(y), K0), z),
    add(hashLen16(v[1], w[1], m), x),
    m,
  );
}

/**
 * FarmHash Fingerprint64 of a UTF-8 string or raw bytes, as an unsigned 64-bit
 * BigInt. Stable across platforms and releases (it is a fingerprint, not a
 * seeded hash).
 */
export function fingerprint64(input: string | Uint8Array): bigint {
  const s = typeof input === 'string' ? new TextEncoder().encode(input) : input;
  if (s.length <= 16) return hashLen0to16(s);
  if (s.length <= 32) return hashLen17to32(s);
  if (s.length <= 64) return hashLen33to64(s);
  return hashLongerThan64(s);
}
