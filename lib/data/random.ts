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
