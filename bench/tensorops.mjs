// #11 natops: native vs TS tensor-op kernels (indexSelect, its backward, cumsum), interleaved,
// median of 15 rounds each. Needs dist/ (npx tsc -p tsconfig.json) and the addon.
//   node bench/tensorops.mjs
import { getBackendByName } from '../dist/backend/index.js';

const N = getBackendByName('native');
const T = getBackendByName('ts');
const rand = (len) => Float32Array.from({ length: len }, () => Math.random() * 4 - 2);

function cases() {
  const rows = 4096, d = 256;
  const x = rand(rows * d), y = new Float32Array(rows * d), dx = new Float32Array(rows * d);
  const idx = Int32Array.from({ length: rows }, () => Math.floor(Math.random() * rows));
  const c = rand(64 * 1024), cy = new Float32Array(64 * 1024);
  return [
    ['indexSelect 4096 rows of 256 (random idx)', (B) => B.indexSelect(1, rows, d, x, idx, rows, y)],
    ['indexSelectBackward 4096 rows of 256', (B) => B.indexSelectBackward(1, rows, d, x, idx, rows, dx)],
    ['cumsum [64, 1024] axis 1', (B) => B.cumsum(64, 1024, 1, c, false, cy)],
    ['cumsum [64, 1024] axis 0', (B) => B.cumsum(1, 64, 1024, c, false, cy)],
    ['cumsum [64, 1024] axis 1 reverse', (B) => B.cumsum(64, 1024, 1, c, true, cy)],
  ];
}

const median = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
function time(fn, B, reps) {
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < reps; r++) fn(B);
  return Number(process.hrtime.bigint() - t0) / 1e6 / reps;
}
for (const [name, fn] of cases()) {
  for (let w = 0; w < 5; w++) { fn(N); fn(T); }
  const n = [], t = [];
  for (let r = 0; r < 15; r++) { n.push(time(fn, N, 10)); t.push(time(fn, T, 10)); }
  const mn = median(n), mt = median(t);
  console.log(`${name.padEnd(44)} native ${mn.toFixed(3)} ms   ts ${mt.toFixed(3)} ms   ${(mt / mn).toFixed(1)}x`);
}

// Comparisons and where at the op level on [1024, 1024]: lt(x, 0.5) runs on binaryBroadcast's lt code
// (native / TS twin by backend); lt(x, 0.1) (0.1 not exact in float32) keeps the float64 TS
// loop on both backends, the path every comparison took before; where with an int32 cond keeps the
// TS loop (the path every where took before).
const { lt } = await import('../dist/ops/compare.js');
const { where } = await import('../dist/ops/index_ops.js');
const { Tensor } = await import('../dist/tensor/tensor.js');
const { setBackend } = await import('../dist/backend/index.js');
const xt = new Tensor(rand(1024 * 1024), [1024, 1024]);
const yt = new Tensor(rand(1024), [1024]);
const ct = new Tensor(Float32Array.from(rand(1024 * 1024), (v) => (v > 0 ? 1 : 0)), [1024, 1024]);
const ci = new Tensor(Int32Array.from(ct.data), [1024, 1024]);
const opCases = [
  ['lt(x [1024,1024], 0.5): kernel', () => lt(xt, 0.5)],
  ['lt(x [1024,1024], y [1024]): kernel', () => lt(xt, yt)],
  ['lt(x [1024,1024], 0.1): float64 TS loop', () => lt(xt, 0.1)],
  ['where(c [1024,1024], x, y [1024]): kernel', () => where(ct, xt, yt)],
  ['where(int32 c [1024,1024], x, y): TS loop', () => where(ci, xt, yt)],
];
for (const [name, fn] of opCases) {
  const n = [], t = [];
  for (let r = 0; r < 9; r++) {
    setBackend('native'); n.push(time(fn, null, 3));
    setBackend('ts'); t.push(time(fn, null, 3));
  }
  const mn = median(n), mt = median(t);
  console.log(`${name.padEnd(44)} native ${mn.toFixed(3)} ms   ts ${mt.toFixed(3)} ms   ${(mt / mn).toFixed(1)}x`);
}
