#!/usr/bin/env node
/**
 * node bench/norm.mjs [N C H W] → batchNorm (training: batch statistics + normalise,
 * running statistics updated) forward and backward (dx, dweight, dbias) on
 * [64, 32, 24, 24] by default, and layerNorm over the last dim of [N·C·H, W·…],
 * native (default ISA and FATHOM_ISA=scalar, each in a child process, ROUNDS=3 interleaved
 * rounds) vs TS backend; median of timed repeats, ms and GB/s (bytes read + written
 * by the kernels, counted from the arrays). Needs dist/ (npx tsc -p tsconfig.json).
 */
import * as fa from '../dist/index.js';

const dims = process.argv.slice(2).map(Number);
const [N, C, H, W] = dims.length === 4 ? dims : [64, 32, 24, 24];
const shape = [N, C, H, W];
const size = N * C * H * W;

function median(f, reps) {
  const t = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    f();
    t.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  t.sort((a, b) => a - b);
  return t[t.length >> 1];
}

function run(backend) {
  fa.setBackend(backend);
  fa.manualSeed(1);
  const x = fa.randn(shape).requireGrad();
  const w = fa.ones([C]).requireGrad(), b = fa.zeros([C]).requireGrad();
  const rm = fa.zeros([C]), rv = fa.ones([C]);
  const dy = fa.randn(shape);
  const reps = backend === 'ts' ? 5 : 30;
  for (let i = 0; i < 2; i++) fa.batchNorm(x, rm, rv, w, b, { training: true }).backward(dy);
  const fwd = median(() => fa.batchNorm(x, rm, rv, w, b, { training: true }), reps);
  let y;
  const times = [];
  for (let i = 0; i < reps; i++) {
    x.grad = w.grad = b.grad = null;
    y = fa.batchNorm(x, rm, rv, w, b, { training: true });
    const t0 = process.hrtime.bigint();
    y.backward(dy);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, c) => a - c);
  const back = times[times.length >> 1];
  const evalFwd = median(() => fa.batchNorm(x, rm, rv, w, b), reps);
  // layer norm over the last two dims (H·W values per row)
  const lx = fa.randn(shape).requireGrad();
  const lw = fa.ones([H, W]).requireGrad(), lb = fa.zeros([H, W]).requireGrad();
  const lnF = median(() => fa.layerNorm(lx, [H, W], lw, lb), reps);
  const lt = [];
  for (let i = 0; i < reps; i++) {
    lx.grad = lw.grad = lb.grad = null;
    const ly = fa.layerNorm(lx, [H, W], lw, lb);
    const t0 = process.hrtime.bigint();
    ly.backward(dy);
    lt.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  lt.sort((a, c) => a - c);
  return { fwd, back, evalFwd, lnF, lnB: lt[lt.length >> 1] };
}

const MB = (size * 4) / 1e6;
if (process.env.FATHOM_NORM_BENCH_CHILD) {
  process.stdout.write(JSON.stringify(run(process.env.FATHOM_NORM_BENCH_CHILD)));
  process.exit(0);
}
// Each ISA in its own child process (FATHOM_ISA is read once per process), rounds
// interleaved (the machine is shared: medians over rounds of the per-round medians).
const { execFileSync } = await import('node:child_process');
const { fileURLToPath } = await import('node:url');
const self = fileURLToPath(import.meta.url);
const child = (backend, isa) => JSON.parse(execFileSync(process.execPath, [self, ...process.argv.slice(2)], {
  env: { ...process.env, FATHOM_NORM_BENCH_CHILD: backend, ...(isa ? { FATHOM_ISA: isa } : {}) }, encoding: 'utf8',
}));
const isa = fa.info().isa;
const cols = [['native', undefined, `native ${isa}`], ['native', 'scalar', 'native scalar'], ['ts', 'scalar', 'ts']];
const rounds = Number(process.env.ROUNDS ?? 3);
const samples = cols.map(() => []);
for (let r = 0; r < rounds; r++) cols.forEach(([b, i], k) => samples[k].push(child(b, i)));
const med = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
const rows = cols.map(([, , name], k) => [name, Object.fromEntries(Object.keys(samples[k][0]).map((key) => [key, med(samples[k].map((s) => s[key]))]))]);
console.log(`batchNorm / layerNorm on [${shape.join(', ')}] (${MB.toFixed(1)} MB per tensor), median ms over ${rounds} rounds`);
console.log('| backend | bn train fwd | bn bwd (dx, dw, db) | bn eval fwd | ln fwd [H, W] | ln bwd |');
console.log('|---|---|---|---|---|---|');
for (const [be, r] of rows) console.log(`| ${be} | ${r.fwd.toFixed(2)} | ${r.back.toFixed(2)} | ${r.evalFwd.toFixed(2)} | ${r.lnF.toFixed(2)} | ${r.lnB.toFixed(2)} |`);
const [n, sc, t] = rows.map((r) => r[1]);
console.log(`native ${isa} vs scalar: bn fwd ${(sc.fwd / n.fwd).toFixed(2)}×, bn bwd ${(sc.back / n.back).toFixed(2)}×, ln fwd ${(sc.lnF / n.lnF).toFixed(2)}×, ln bwd ${(sc.lnB / n.lnB).toFixed(2)}×`);
console.log(`native vs TS: bn fwd ${(t.fwd / n.fwd).toFixed(1)}×, bn bwd ${(t.back / n.back).toFixed(1)}×, ln fwd ${(t.lnF / n.lnF).toFixed(1)}×, ln bwd ${(t.lnB / n.lnB).toFixed(1)}×`);
// training forward reads x twice (stats) and once more (normalise) and writes y: ~4 passes;
// backward reads x and dy twice and writes dx: ~5 passes (whole ops: allocation and autograd included)
console.log(`native bandwidth: bn fwd ~${((4 * MB) / n.fwd).toFixed(1)} GB/s, bn bwd ~${((5 * MB) / n.back).toFixed(1)} GB/s`);
