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
