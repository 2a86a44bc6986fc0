/**
 * Inverted dropout, fused (the TS mirror of native/kernels/ref/dropout.cc).
 *
 *   dropout  x, y, mask: (n)   keep_i = (word_i >>> 8) >= ceil(p 2^24)  (u_i >= p for the
 *                              uniform u_i of randUniform's stream at (seed, offset))
 *                              mask[i] = keep_i ? scale : 0;  y[i] = fround(x[i] * mask[i])
 *   (no backward kernel: the op's gradient is dy · mask, a mul.)
 * The stream is randUniform's exactly (Philox4x32-10, counter offset + floor(i / 4),
 * word i % 4), so a mask equals `rand(...) >= p` drawn at the same position.
 */
import { philox4x32 } from './random.js';

export function dropout(
  x: Float32Array, y: Float32Array, mask: Float32Array, seed: bigint, offset: bigint, p: number, scale: number,
): void {
  const n = x.length;
  const keepFrom = Math.ceil(p * 16777216);
  const fscale = Math.fround(scale);
  const s = BigInt.asUintN(64, seed);
  const o = BigInt.asUintN(64, offset);
  const key = new Uint32Array([Number(s & 0xffffffffn), Number(s >> 32n)]);
  const ctr = new Uint32Array([Number(o & 0xffffffffn), Number(o >> 32n), 0, 0]);
  const w = new Uint32Array(4);
  for (let base = 0; base < n; base += 4) {
    philox4x32(ctr, key, w);
    const end = Math.min(4, n - base);
    for (let j = 0; j < end; j++) {
      const m = w[j] >>> 8 >= keepFrom ? fscale : 0;
      mask[base + j] = m;
      y[base + j] = x[base + j] * m;
    }
    // 64-bit increment of (ctr[0], ctr[1]); wraps mod 2^64.
    ctr[0] = (ctr[0] + 1) >>> 0;
    if (ctr[0] === 0) ctr[1] = (ctr[1] + 1) >>> 0;
  }
}
