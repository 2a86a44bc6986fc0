#!/usr/bin/env node
/**
 * node bench/rnn.mjs [--quick] [--backend native|ts] — issue #11's recurrent benchmarks through the public API
 * (autograd included): an LSTM training step (input 64, hidden 128, sequence 32, batch 32,
 * the last step → dense 10, softmax cross-entropy, SGD), the same with a GRU, and LSTM / GRU
 * inference at batch 256 (forward of the sequence, no tape). The input projection is one
 * GEMM (linear over all N·T rows), the recurrence one rnnSequence call forward and one
 * backward. FLOP: 2·(I + H)·G·H per sample and step (LSTM: 6.29 MFLOP forward per sample;
 * a training step counts 3× the forward), the dense layer is left out. Median of timed runs
 * after a warm-up, native (active ISA, FATHOM_ISA to choose) vs the TS backend; % of peak
 * against the 229 GFLOP/s FP32 two-core peak of the README's machine (AVX2 FMA).
 * Needs dist/ (npm run build:ts) and the addon.
 */
import * as fa from '../dist/index.js';
import { nativeBinding, nativeInfo } from '../dist/backend/index.js';

const quick = process.argv.includes('--quick');
const only = process.argv.includes('--backend') ? process.argv[process.argv.indexOf('--backend') + 1] : null;
const PEAK = 229;
const I = 64, H = 128, T = 32, CLASSES = 10;

function params(mode) {
  const G = mode === 'lstm' ? 4 : 3;
  fa.manualSeed(11);
  const k = 1 / Math.sqrt(H);
  const u = (shape) => fa.rand(shape).mul(2 * k).sub(k).detach().requireGrad();
  return { G, wIh: u([G * H, I]), wHh: u([G * H, H]), bIh: u([G * H]), bHh: u([G * H]), wOut: u([CLASSES, H]), bOut: u([CLASSES]) };
}

/** The last hidden state of the sequence x [N, T, I]. */
function lastH(mode, p, x) {
  const N = x.shape[0];
  const proj = fa.linear(fa.reshape(x, [N * T, I]), p.wIh, p.bIh);
  const c0 = mode === 'lstm' ? fa.zeros([N, H]) : null;
  return fa.rnnSequence(mode, fa.reshape(proj, [N, T, p.G * H]), fa.zeros([N, H]), c0, p.wHh, p.bHh).h;
}

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
  return ts[ts.length >> 1];
}

const rows = [];
for (const backend of (nativeBinding() ? ['native', 'ts'] : ['ts']).filter((b) => !only || b === only)) {
  fa.setBackend(backend);
  const label = backend === 'native' ? `native ${nativeInfo()?.isa ?? ''}`.trim() : 'ts';
  for (const mode of ['lstm', 'gru']) {
    const p = params(mode);
    const list = [p.wIh, p.wHh, p.bIh, p.bHh, p.wOut, p.bOut];
    const opt = new fa.optim.SGD(list, { lr: 0.05 });
    const fwdFlop = 2 * (I + H) * p.G * H * T; // per sample
    // training step, batch 32
    {
      const N = 32;
      const x = fa.randn([N, T, I]);
      const y = fa.tensor(Int32Array.from({ length: N }, (_, i) => i % CLASSES), [N]);
      const step = () => {
        opt.zeroGrad();
        const loss = fa.softmaxCrossEntropy(fa.linear(lastH(mode, p, x), p.wOut, p.bOut), y);
        loss.backward();
        opt.step();
      };
      const ms = time(step, quick ? 300 : 2000, backend === 'ts' ? (quick ? 1 : 3) : quick ? 10 : 100);
      rows.push({ what: `${mode.toUpperCase()} training step, batch ${N}`, backend: label, ms, flop: 3 * fwdFlop * N });
    }
    // inference, batch 256
    {
      const N = 256;
      const x = fa.randn([N, T, I]);
      const ms = time(() => fa.noGrad(() => lastH(mode, p, x)), quick ? 300 : 2000, backend === 'ts' ? (quick ? 1 : 3) : quick ? 10 : 100);
      rows.push({ what: `${mode.toUpperCase()} inference, batch ${N}`, backend: label, ms, flop: fwdFlop * N });
    }
  }
}
const f = (v) => v.toFixed(v < 10 ? 2 : 1);
console.log(`RNN (input ${I}, hidden ${H}, sequence ${T}), ${nativeInfo()?.threads ?? '?'} threads; % of the ${PEAK} GFLOP/s 2-core FP32 peak`);
console.log('| case | backend | ms | GFLOP/s | % of peak |');
console.log('|---|---|---|---|---|');
for (const r of rows) {
  const gf = r.flop / r.ms / 1e6;
  console.log(`| ${r.what} | ${r.backend} | ${f(r.ms)} | ${gf.toFixed(1)} | ${((100 * gf) / PEAK).toFixed(1)} % |`);
}
