/**
 * Seeded draws for the data helpers (splits, synthetic sets), taken from
 * fathom's counter-based Philox stream (see ops/create.ts): with a seed the
 * numbers depend on it alone, on both backends; without one they come from
 * the global stream, reproducibly after manualSeed (as PyTorch's generators).
 */
import { rand, randn } from '../ops/create.js';

/** Successive disjoint blocks of one stream: each draw advances the offset past the numbers it used. */
export class Draws {
  private offset = 0n;
  constructor(private readonly seed: number | undefined) {}

  private opts(n: number): { seed?: number; offset?: bigint } {
    if (this.seed === undefined) return {};
    const o = { seed: this.seed, offset: this.offset };
    this.offset += BigInt(Math.ceil(n / 4));
    return o;
  }

  /** n uniform numbers in [0, 1). */
  uniform(n: number): Float32Array {
    return rand([n], this.opts(n)).f32();
  }

  /** n standard normal numbers times std. */
  normal(n: number, std = 1): Float32Array {
    return randn([n], { ...this.opts(n), std }).f32();
  }

  /** A uniformly random permutation of 0..n-1 (sort by uniform keys, ties by index). */
  permutation(n: number): Int32Array {
    const keys = this.uniform(n);
    const idx = Array.from({ length: n }, (_, i) => i);
    idx.sort((a, b) => keys[a] - keys[b] || a - b);
    return Int32Array.from(idx);
  }
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): uniform numbers in [0, 1)
 * from a 32-bit state seeded with `seed` (its low 32 bits). Small and fast; the
 * seeded shuffles of fit(), pretrain and the CLI draw from it, so they are
 * deterministic and backend independent.
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Integers in [0, n) from mulberry32(seed): the draws of a seeded Fisher–Yates shuffle. */
export function shuffler(seed: number): (n: number) => number {
  const u = mulberry32(seed);
  return (n) => Math.floor(u() * n);
}
