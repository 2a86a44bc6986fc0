/**
 * Counter-based random numbers (the TS mirror of native/kernels/ref/random.cc).
 *
 *   randUniform  y: (n)   y[i] = float32(lo + (hi - lo) * u_i)                 computed in float64
 *   randNormal   y: (n)   Box-Muller on word pairs of the stream               computed in float64
 *   (no backward: these are sources.)
 *
 * The stream, exactly:
 *  - Generator: Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy
 *    as 1, 2, 3", SC11; the Random123 reference), 32-bit arithmetic,
 *    multipliers 0xD2511F53 and 0xCD9E8D57, Weyl key increments 0x9E3779B9 and
 *    0xBB67AE85, 10 rounds (the key is bumped between rounds, 9 times).
 *  - Key: (lo32(seed), hi32(seed)) of the 64-bit seed.
 *  - Counter for element i: c = (offset + floor(i / 4)) mod 2^64, as the 128-bit
 *    counter (lo32(c), hi32(c), 0, 0). Element i takes output word i % 4 of
 *    its block. The offset counts blocks of 4, not elements: a caller that
 *    wants the next call's stream disjoint advances offset by ceil(n / 4).
 *  - Word to uniform: u = (word >>> 8) * 2^-24, in [0, 1) with 24 random bits.
 *  - Uniform: lo and hi are float32 in the contract (rounded first);
 *    y[i] = fround(lo + (hi - lo) * u_i) with the arithmetic in float64.
 *  - Normal: mean and std are float32 (rounded first). Elements 2k and 2k+1
 *    use the words 2k and 2k+1 of the stream (u0, u1):
 *        r        = sqrt(-2 ln(1 - u0))          (1 - u0 is in (0, 1], so r is finite)
 *        y[2k]    = fround(mean + std * (r * cos(2π u1)))
 *        y[2k+1]  = fround(mean + std * (r * sin(2π u1)))
 *    all in float64. If n is odd the last pair's second value is dropped.
 */

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
const TWO_POW_M24 = 1 / 16777216;

/** High 32 bits of the 64-bit product a * b of two uint32 values, via 16-bit halves. */
function mulhi32(a: number, b: number): number {
  const al = a & 0xffff, ah = a >>> 16;
  const bl = b & 0xffff, bh = b >>> 16;
  const ll = al * bl; // each partial product is < 2^32, exact in float64
  const lh = al * bh;
  const hl = ah * bl;
  const hh = ah * bh;
  // Carry out of the low 32 bits: bits 16..31 of the sum of the middle terms.
  const mid = (ll >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (hh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * One Philox4x32-10 block: out = philox(ctr, key). All arrays hold uint32
 * words, ctr word 0 first, key word 0 first. out may alias ctr.
 */
export function philox4x32(ctr: Uint32Array, key: Uint32Array, out: Uint32Array): void {
  let c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
  let k0 = key[0], k1 = key[1];
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulhi32(M0, c0), lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi32(M1, c2), lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/**
 * Calls visit(block, words) for the blocks covering n elements: block b holds
 * the 4 words of counter offset + b. BigInt is used only here, outside the
 * hot loop; the counter is then carried as two uint32 halves.
 */
function forEachBlock(n: number, seed: bigint, offset: bigint, visit: (block: number, words: Uint32Array) => void): void {
  const s = BigInt.asUintN(64, seed);
  const o = BigInt.asUintN(64, offset);
  const key = new Uint32Array([Number(s & 0xffffffffn), Number(s >> 32n)]);
  const ctr = new Uint32Array([Number(o & 0xffffffffn), Number(o >> 32n), 0, 0]);
  const words = new Uint32Array(4);
  const blocks = Math.ceil(n / 4);
  for (let b = 0; b < blocks; b++) {
    philox4x32(ctr, key, words);
    visit(b, words);
    // 64-bit increment of (ctr[0], ctr[1]); wraps mod 2^64.
    ctr[0] = (ctr[0] + 1) >>> 0;
    if (ctr[0] === 0) ctr[1] = (ctr[1] + 1) >>> 0;
  }
}

function toUnit(word: number): number {
  return (word >>> 8) * TWO_POW_M24;
}

export function randUniform(y: Float32Array, seed: bigint, offset: bigint, lo: number, hi: number): void {
  const n = y.length;
  const flo = Math.fround(lo);
  const span = Math.fround(hi) - flo;
  forEachBlock(n, seed, offset, (b, w) => {
    const base = 4 * b;
    const end = Math.min(4, n - base);
    for (let j = 0; j < end; j++) y[base + j] = flo + span * toUnit(w[j]);
  });
}

export function randNormal(y: Float32Array, seed: bigint, offset: bigint, mean: number, std: number): void {
  const n = y.length;
  const fmean = Math.fround(mean);
  const fstd = Math.fround(std);
  forEachBlock(n, seed, offset, (b, w) => {
    // Two pairs per block: words (0, 1) -> elements 4b, 4b+1; words (2, 3) -> 4b+2, 4b+3.
    for (let pair = 0; pair < 2; pair++) {
      const i = 4 * b + 2 * pair;
      if (i >= n) break;
      const u0 = toUnit(w[2 * pair]);
      const u1 = toUnit(w[2 * pair + 1]);
      const r = Math.sqrt(-2 * Math.log(1 - u0));
      const theta = 2 * Math.PI * u1;
      y[i] = fmean + fstd * (r * Math.cos(theta));
      if (i + 1 < n) y[i + 1] = fmean + fstd * (r * Math.sin(theta));
    }
  });
}
