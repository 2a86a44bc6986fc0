/** A small seeded generator for test inputs (independent of the code under test). */
export function rng(seed: number): () => number {
  // Mix the seed first (nearby seeds must not give nearby first values).
  let s = Math.imul((seed ^ 0x9e3779b9) >>> 0, 0x85ebca6b) >>> 0;
  s = Math.imul(s ^ (s >>> 13), 0xc2b2ae35) >>> 0;
  s = (s ^ (s >>> 16)) >>> 0 || 1;
  return () => {
    // xorshift32
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Uniform values in [lo, hi) as a Float32Array. */
export function randomArray(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * r();
  return out;
}

export function randomLabels(n: number, classes: number, seed: number): Int32Array {
  const r = rng(seed);
  return Int32Array.from({ length: n }, () => Math.floor(r() * classes));
}

/** Random inputs in [lo, hi), with exact +0 and -0 sprinkled in when zero is in the domain. */
export function randomInput(n: number, seed: number, lo: number, hi: number, zeros = false): Float32Array {
  const x = randomArray(n, seed, lo, hi);
  if (zeros) for (let i = 3; i < n; i += 11) x[i] = i % 2 ? 0 : -0;
  return x;
}
