#!/usr/bin/env node
/**
 * node bench/conv.mjs [--quick] — conv2d forward, data gradient and weight gradient on the
 * two LeNet-style layers of issue #10 at batch 64 (28×28×1 → 32 5×5 valid; 12×12×32 → 64 5×5
 * valid), and their forward at batch 256 (the inference case), native (active ISA,
 * FATHOM_ISA=avx2|avx512|scalar to choose, FATHOM_NUM_THREADS for the threads) vs the TS
 * reference, raw kernels (no autograd; the forward with bias + ReLU fused, as Sequential runs
 * it). Median and minimum of timed runs after a warm-up (the minimum is the steadier figure on
 * a shared machine); GFLOP/s counts 2·MACs, from the median. Needs dist/ (npm run build:ts)
 * and the addon.
 */
import { getBackendByName, nativeBinding, nativeInfo } from '../dist/backend/index.js';

const quick = process.argv.includes('--quick');
const LAYERS = [
  { name: '28×28×1 → 32 5×5', n: 64, c: 1, h: 28, w: 28, o: 32, k: 5 },
  { name: '12×12×32 → 64 5×5', n: 64, c: 32, h: 12, w: 12, o: 64, k: 5 },
  { name: '28×28×1 → 32 5×5', n: 256, c: 1, h: 28, w: 28, o: 32, k: 5, forwardOnly: true },
  { name: '12×12×32 → 64 5×5', n: 256, c: 32, h: 12, w: 12, o: 64, k: 5, forwardOnly: true },
];

function geom(L) {
  const oh = L.h - L.k + 1, ow = L.w - L.k + 1;
  return { n: L.n, c: L.c, h: L.h, w: L.w, o: L.o, kh: L.k, kw: L.k, strideH: 1, strideW: 1, padH: 0, padW: 0,
    dilationH: 1, dilationW: 1, groups: 1, oh, ow };
}
const rnd = (n) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);

function time(fn, minMs, maxRuns) {
  fn();
  const ts = [];
  const t0 = performance.now();
  while (ts.length < maxRuns && (ts.length < 3 || performance.now() - t0 < minMs)) {
    const a = performance.now();
    fn();
    ts.push(performance.now() - a);
  }
  ts.sort((a, b) => a - b);
  return { med: ts[ts.length >> 1], min: ts[0] };
}

const rows = [];
for (const L of LAYERS) {
  const g = geom(L);
  const xs = g.n * g.c * g.h * g.w, ws = g.o * g.c * g.kh * g.kw, ys = g.n * g.o * g.oh * g.ow;
  const x = rnd(xs), w = rnd(ws), dy = rnd(ys), bias = rnd(g.o);
  const y = new Float32Array(ys), dx = new Float32Array(xs), dw = new Float32Array(ws);
  const flop = 2 * g.n * g.o * g.oh * g.ow * g.c * g.kh * g.kw;
  for (const name of nativeBinding() ? ['native', 'ts'] : ['ts']) {
    if (name === 'ts' && L.forwardOnly) continue;
    const B = getBackendByName(name);
    const budget = name === 'ts' ? (quick ? 1 : 3) : quick ? 20 : 200;
    const minMs = quick ? 300 : 1500;
    const f = time(() => B.conv2d(g, x, w, bias, 'relu', y), minMs, budget);
    const bd = L.forwardOnly ? null : time(() => B.conv2dBackwardData(g, dy, w, dx), minMs, budget);
    const bw = L.forwardOnly ? null : time(() => B.conv2dBackwardWeight(g, x, dy, dw), minMs, budget);
    rows.push({ layer: L.name, n: L.n, backend: name === 'native' ? `native ${nativeInfo()?.isa ?? ''}`.trim() : 'ts', f, bd, bw, flop });
  }
}
const ms = (v) => v.toFixed(v < 10 ? 2 : 1);
const gf = (flop, t) => (flop / t / 1e6).toFixed(1);
const cell = (r, t) => (t ? `${ms(t.med)} / ${ms(t.min)} (${gf(r.flop, t.med)})` : '–');
console.log(`conv2d, ${nativeInfo()?.threads ?? '?'} threads; cells: median / min ms (GFLOP/s at the median)`);
console.log('| layer | batch | backend | forward + bias + ReLU | backward data | backward weight | fwd+bwd ms (median) |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) {
  const total = r.bd ? ms(r.f.med + r.bd.med + r.bw.med) : '–';
  console.log(`| ${r.layer} | ${r.n} | ${r.backend} | ${cell(r, r.f)} | ${cell(r, r.bd)} | ${cell(r, r.bw)} | ${total} |`);
}
