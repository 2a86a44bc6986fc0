#!/usr/bin/env node
/**
 * Raw inference of the MLP 784-256-256-10 (issue #13): batch-1 latency and batch-256 throughput per
 * ISA and thread count, and where the batch-1 time goes. Outside CI; prints markdown tables.
 *
 *   node bench/infer.mjs [--calls 20000] [--rounds 3] [--isa avx2,avx512]
 *
 * Each ISA runs in its own child process (FATHOM_ISA=<isa>; the kernel table is chosen once per
 * process); children run one after the other, `--rounds` times interleaved (the order reversed every
 * other round), and the tables show the median over rounds of each figure. Per child and thread count (1 and 2):
 *   predict p50/p99   model.predict(x) on one row, `--calls` timed calls (µs)
 *   forward p50/p99   model.forward(x) inside noGrad (no predict bookkeeping: mode switch, checks)
 *   chain p50         the whole MLP as ONE raw addon call (linearChain, what Sequential runs under
 *                     noGrad/predict; preallocated output, no tensors): the floor the JS layers sit on
 *   fused p50         the three layers as three raw linearForward calls (the #13 first pass)
 *   kernels p50       the three layers as raw gemm + biasAct calls (six calls, as the taped op)
 *   napi p50          one empty-ish addon call (gemm with M = N = K = 1): the N-API crossing alone
 *   pool jobs         thread-pool jobs started per forward, batch 1 (0: the pool was not woken) and 256
 *   batch 256         predict on 256 rows: samples/s, GFLOP/s (537,600 FLOP per sample) and % of the
 *                     FP32 peak of the cores used (--peak GFLOP/s per core, default 115: Zen 4 at
 *                     3.6 GHz, 2 x 256-bit FMA per cycle); measured in alternation with the same 256
 *                     rows layer by layer (three Linear.forwardWith calls under noGrad: the #13 first
 *                     pass, one linearForward per layer, each threading its own GEMM and epilogue)
 *   gemm              the GEMM driver the ISA's kernel table runs (info().gemm): on AMD Zen 4, whose
 *                     AVX-512 is double-pumped, the avx512 table runs the AVX2 6x16 driver
 * The table is printed as markdown, ready for the README.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { pairedRates, percentiles } from './isa-common.js';

const argv = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : dflt;
};
const FLOP = 2 * (784 * 256 + 256 * 256 + 256 * 10);
const PEAK = Number(arg('peak', '115'));

if (argv.includes('--child')) {
  await child(Number(arg('calls', '20000')));
} else {
  await parent();
}


function rate(fn, seconds) {
  fn();
  const rates = [];
  const end = performance.now() + seconds * 1e3;
  while (rates.length < 5 || performance.now() < end) {
    const t0 = performance.now();
    let n = 0;
    do {
      fn();
      n++;
    } while (performance.now() - t0 < 50);
    rates.push((n * 1e3) / (performance.now() - t0));
  }
  rates.sort((a, b) => a - b);
  return rates[rates.length >> 1];
}

async function child(calls) {
  const fathom = await import('../dist/index.js');
  const { nativeBinding } = await import('../dist/backend/index.js');
  const { nn, noGrad } = fathom;
  const b = nativeBinding();
  fathom.setBackend('native');
  const model = new nn.Sequential(
    new nn.Linear(784, 256, { init: 'he', seed: 7 }), new nn.ReLU(),
    new nn.Linear(256, 256, { init: 'he', seed: 8 }), new nn.ReLU(),
    new nn.Linear(256, 10, { seed: 9 }),
  );
  model.eval();
  const x1 = fathom.rand([1, 784], { seed: 1 });
  const x256 = fathom.rand([256, 784], { seed: 2 });
  const lin = model.layers.filter((m) => m instanceof nn.Linear);
  const W = lin.map((l) => l.weight.f32());
  const B = lin.map((l) => l.bias.f32());
  const h1 = new Float32Array(256), h2 = new Float32Array(256), y = new Float32Array(10);
  const xin = x1.f32();
  const RELU = 1; // Act id of 'relu' in the binding (lib/backend/native/index.ts)
  const kernels = () => {
    b.gemm(false, true, 1, 256, 784, 1, xin, W[0], 0, h1);
    b.biasAct(1, 256, h1, B[0], RELU);
    b.gemm(false, true, 1, 256, 256, 1, h1, W[1], 0, h2);
    b.biasAct(1, 256, h2, B[1], RELU);
    b.gemm(false, true, 1, 10, 256, 1, h2, W[2], 0, y);
    b.biasAct(1, 10, y, B[2], 0);
  };
  const fused = b.linearForward ? () => {
    b.linearForward(1, 256, 784, xin, W[0], B[0], RELU, h1);
    b.linearForward(1, 256, 256, h1, W[1], B[1], RELU, h2);
    b.linearForward(1, 10, 256, h2, W[2], B[2], 0, y);
  } : null;
  const chain = b.linearChain
    ? () => b.linearChain(1, xin, y, 784, 256, RELU, W[0], B[0], 256, RELU, W[1], B[1], 10, 0, W[2], B[2])
    : null;
  const layered = (x) => noGrad(() => lin[2].forwardWith(lin[1].forwardWith(lin[0].forwardWith(x, 'relu'), 'relu'), 'none'));
  const o1 = new Float32Array(1), o2 = new Float32Array(1), o3 = new Float32Array(1);
  const napi = () => b.gemm(false, true, 1, 1, 1, 1, o1, o2, 0, o3);
  const info = b.info();
  const out = { isa: info.isa, gemm: info.gemm ?? '?', rows: {} };
  for (const th of info.maxThreads > 1 ? [1, 2] : [1]) {
    b.setNumThreads(th);
    const r = {};
    const p = percentiles(() => model.predict(x1), calls);
    const f = percentiles(() => noGrad(() => model.forward(x1)), calls);
    r.predict50 = p.p50; r.predict99 = p.p99;
    r.forward50 = f.p50; r.forward99 = f.p99;
    r.chain50 = chain ? percentiles(chain, calls).p50 : NaN;
    r.kernels50 = percentiles(kernels, calls).p50;
    r.fused50 = fused ? percentiles(fused, calls).p50 : NaN;
    r.napi50 = percentiles(napi, calls).p50;
    const j0 = b.poolJobsStarted ? b.poolJobsStarted() : NaN;
    for (let i = 0; i < 100; i++) noGrad(() => model.forward(x1));
    r.poolJobs = b.poolJobsStarted ? (b.poolJobsStarted() - j0) / 100 : NaN;
    const j1 = b.poolJobsStarted ? b.poolJobsStarted() : NaN;
    for (let i = 0; i < 10; i++) model.predict(x256);
    r.poolJobs256 = b.poolJobsStarted ? (b.poolJobsStarted() - j1) / 10 : NaN;
    const [p256, l256] = pairedRates([() => model.predict(x256), () => layered(x256)], 3);
    const s = p256 * 256;
    r.sps256 = s;
    r.layered256 = l256 * 256;
    r.gflops256 = (s * FLOP) / 1e9;
    r.peak256 = (100 * r.gflops256) / (PEAK * th);
    r.layeredPeak256 = (100 * ((r.layered256 * FLOP) / 1e9)) / (PEAK * th);
    out.rows[th] = r;
  }
  process.stdout.write(JSON.stringify(out));
}

async function parent() {
  const self = fileURLToPath(import.meta.url);
  const rounds = Number(arg('rounds', '3'));
  const calls = arg('calls', '20000');
  const { nativeInfo } = await import('../dist/backend/index.js');
  const info = nativeInfo();
  if (!info) throw new Error('bench/infer.mjs: the native addon did not load');
  const isas = (arg('isa', '') || info.isas.filter((i) => i !== 'scalar').join(',')).split(',');
  const res = {};
  const gemms = {};
  const load0 = loadavg();
  const t0 = new Date();
  for (let r = 0; r < rounds; r++) {
    // Alternate the order from round to round: no ISA always runs first (after the previous child).
    for (const isa of r % 2 ? [...isas].reverse() : isas) {
      const c = spawnSync(process.execPath, [self, '--child', '--calls', calls], {
        env: { ...process.env, FATHOM_ISA: isa }, encoding: 'utf8', maxBuffer: 1 << 24,
      });
      if (c.status !== 0) throw new Error(`bench/infer.mjs: child ${isa} failed: ${c.stderr}`);
      const o = JSON.parse(c.stdout);
      gemms[isa] = o.gemm;
      for (const [th, row] of Object.entries(o.rows)) {
        const key = `${isa} ${th}T`;
        res[key] ??= {};
        for (const [k, v] of Object.entries(row)) (res[key][k] ??= []).push(v ?? NaN);
      }
      process.stderr.write(`round ${r + 1}/${rounds} ${isa} done\n`);
    }
  }
  const med = (v) => {
    const s = [...v].sort((a, b) => a - b);
    return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  const f1 = (v) => (v == null || Number.isNaN(v) ? '–' : v.toFixed(1));
  const f0 = (v) => Math.round(v).toLocaleString('en-US');
  const keys = Object.keys(res);
  const row = (label, fn) => `| ${label} | ${keys.map((k) => fn(Object.fromEntries(Object.entries(res[k]).map(([n, v]) => [n, med(v)])))).join(' | ')} |`;
  const load1 = loadavg();
  const la = (l) => l.map((v) => v.toFixed(2)).join(' ');
  console.log(`MLP 784-256-256-10, ${calls} timed batch-1 calls per figure, median of ${rounds} interleaved rounds; peak ${PEAK} GFLOP/s per core`);
  console.log(`${t0.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${Math.round((Date.now() - t0) / 1000)} s; load average (1, 5, 15 min) at the start ${la(load0)}, at the end ${la(load1)}\n`);
  console.log(`| | ${keys.join(' | ')} |`);
  console.log(`| --- |${keys.map(() => ' ---: |').join('')}`);
  console.log(row('predict, batch 1: p50 / p99 (µs)', (m) => `${f1(m.predict50)} / ${f1(m.predict99)}`));
  console.log(row('forward under noGrad, batch 1: p50 / p99 (µs)', (m) => `${f1(m.forward50)} / ${f1(m.forward99)}`));
  console.log(row('raw `linearChain` (1 call), p50 (µs)', (m) => f1(m.chain50)));
  console.log(row('raw `linearForward` (3 calls), p50 (µs)', (m) => f1(m.fused50)));
  console.log(row('raw gemm + biasAct (6 calls), p50 (µs)', (m) => f1(m.kernels50)));
  console.log(row('one N-API call (1×1×1 gemm), p50 (µs)', (m) => f1(m.napi50)));
  console.log(row('pool jobs per forward, batch 1 / 256', (m) => `${f1(m.poolJobs)} / ${f1(m.poolJobs256)}`));
  console.log(row('`predict`, batch 256 (samples/s)', (m) => f0(m.sps256)));
  console.log(row('batch 256: GFLOP/s, % of the peak of the cores used', (m) => `${f1(m.gflops256)}, **${f1(m.peak256)} %**`));
  console.log(row('batch 256 layer by layer (3 `linearForward`), % of peak', (m) => `${f1(m.layeredPeak256)} %`));
  console.log(`| GEMM driver | ${keys.map((k) => gemms[k.split(' ')[0]]).join(' | ')} |`);
}
