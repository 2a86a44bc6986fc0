#!/usr/bin/env node
/**
 * npm run bench → node bench/run.js [--quick] [--only isa|gemm|mlp|cnn|rnn|optim|peers[,…]]
 *
 * The first section (isa.js) runs every ISA the CPU supports side by side, each in its own child
 * process (FATHOM_ISA=<isa>), interleaved; the others measure the default ISA against the TS
 * backend and the TensorFlow.js peers; cnn.js runs the bench CNN per ISA (child processes again),
 * against the TS backend and TensorFlow.js, and splits its training step into kernels.
 *
 * cases.js (what) × targets/ (who) × runner.js (how). Prints a markdown report on stdout;
 * progress lines go to stderr. Needs dist/ (npm run build:ts) and, for the native columns,
 * the addon (npm run build:native). The TensorFlow.js peers are optional devDependencies.
 */
import os from 'node:os';
import {
  gemmCases, gemmFlops, gemmOperands, TS_GEMM_MAX, MLP, mlpForwardFlops, mlpTrainFlops, mlpParams,
  TRAIN_BATCHES, TRAIN_BATCH_SLOW, OPTIMIZERS, INFER_BATCHES, PEER_INFER_BATCHES, fixedData,
} from './cases.js';
import { configure, settings, suite, latency, table, num, pct, ratio, withRme, DASH } from './runner.js';
import { machineInfo, cpuSnapshot, othersSince } from './machine.js';
import { isaSection } from './isa.js';
import { optimSection } from './optim.js';
import { cnnSection } from './cnn.js';
import { rnnSection } from './rnn.js';

const USAGE = `usage: node bench/run.js [--quick] [--only isa|gemm|mlp|cnn|rnn|optim|peers[,...]]
  --quick   one round of the ISA comparison, shorter sampling (benchmark.js maxTime 0.25 s),
            TS GEMM up to 256, fewer batches; the CNN's slow targets (TS, tfjs) at small
            batches, one call each (about 1.5 min on 2 busy cores; < 2 min)
  --only    run only these sections (default: all; isa = every ISA side by side)
env: FATHOM_CPU_GHZ (clock override), FATHOM_FLOP_PER_CYCLE (peak override), FATHOM_NUM_THREADS,
     FATHOM_BENCH_ROUNDS (rounds of the ISA comparison, default 5, and of the CNN's, default 3; 1 with --quick)`;

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(USAGE);
  process.exit(0);
}
const quick = argv.includes('--quick');
const onlyIdx = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
const SECTIONS = ['isa', 'gemm', 'mlp', 'cnn', 'rnn', 'optim', 'peers'];
let only = SECTIONS;
if (onlyIdx >= 0) {
  const v = argv[onlyIdx].includes('=') ? argv[onlyIdx].split('=')[1] : argv[onlyIdx + 1];
  only = String(v ?? '').split(',').filter(Boolean);
  const bad = only.filter((s) => !SECTIONS.includes(s));
  if (!only.length || bad.length) {
    console.error(`bench: --only takes isa, gemm, mlp, cnn, rnn, optim or peers (comma-separated), got '${v ?? ''}'\n${USAGE}`);
    process.exit(2);
  }
}
for (const a of argv) {
  if (!['--quick', '--only', '--help', '-h'].includes(a) && !a.startsWith('--only=') && a !== argv[onlyIdx + 1]) {
    console.error(`bench: unknown argument '${a}'\n${USAGE}`);
    process.exit(2);
  }
}

let native;
let tsTarget;
let fathom;
try {
  native = (await import('./targets/fathom-native.js')).default;
  tsTarget = (await import('./targets/fathom-ts.js')).default;
  fathom = (await import('./targets/fathom.js')).fathom;
} catch (e) {
  console.error(`bench: cannot load fathom from dist/ (${e.message}). Run \`npm run build:ts\` first.`);
  process.exit(1);
}

configure({ quick });
const started = Date.now();
const m = machineInfo();
const N = native.unavailable ? 1 : native.maxThreads;
const threads0 = native.unavailable ? 1 : native.threads(); // the MLP runs on the default pool
const T = threads0;
const peak = (threads) => m.peakCore * threads;
const cores = (n) => `${n} core${n === 1 ? '' : 's'}`;
const out = (s = '') => process.stdout.write(`${s}\n`);
const log = (s) => process.stderr.write(`${s}\n`);

// ---------------------------------------------------------------------------------------------
// Header
const inf = fathom.info();
const nInfo = native.unavailable ? null : (await import('../dist/backend/index.js')).nativeInfo();
out('# fathom benchmarks');
out();
out(`- **CPU**: ${m.model} (${m.vendor}), ${m.cores} logical CPUs, ${m.isa}`);
out(`- **clock**: ${m.ghz.toFixed(2)} GHz from ${m.clockSource}`);
out(`- **FP32 peak** = clock × FLOP/cycle = ${m.ghz.toFixed(2)} GHz × ${m.flopPerCycle} = **${num(m.peakCore / 1e9)} GFLOP/s per core**, ` +
  `${num(peak(N) / 1e9)} GFLOP/s on ${N} thread${N > 1 ? 's' : ''}`);
out(`- **Node** ${process.version} (${process.platform}-${process.arch}), fathom ${inf.version}: ` +
  (nInfo ? `native isa **${nInfo.isa}** (this binary and CPU can run: ${nInfo.isas.join(', ')}), threads ${nInfo.threads} of max ${nInfo.maxThreads}`
    : `native addon unavailable (${native.unavailable}); TS backend only`));
out(`- **timing**: benchmark.js ${quick ? '(--quick) ' : ''}maxTime ${settings().maxTime} s, minSamples ${settings().minSamples} per cell (± is the 95 % relative margin of error); ` +
  `load average at start ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
out();

// ---------------------------------------------------------------------------------------------
// GEMM
function gemmSection() {
  out('## GEMM (C = op(A)·op(B), FP32, GFLOP/s = 2·M·N·K / time)');
  out();
  out(`Native through the raw addon (\`gemm(transA, transB, m, n, k, 1, A, B, 0, C)\`) with 1 thread and with all ${N}; ` +
    `% of peak against ${num(m.peakCore / 1e9)} GFLOP/s per thread used. TS = the pure-TypeScript backend (1 thread), ` +
    `measured up to ${quick ? 256 : TS_GEMM_MAX} (${DASH} above: minutes per call).`);
  out();
  const tsMax = quick ? 256 : TS_GEMM_MAX;
  const res = { n1: new Map(), nN: new Map(), ts: new Map() };
  const ops = new Map(gemmCases.map((c) => [c.id, gemmOperands(c)]));
  if (!native.unavailable) {
    native.activate();
    native.setThreads(1);
    res.n1 = suite('gemm native 1 thread', gemmCases.map((c) => ({ key: c.id, fn: native.gemm(c, ops.get(c.id)) })));
    if (N > 1) {
      native.setThreads(N);
      res.nN = suite(`gemm native ${N} threads`, gemmCases.map((c) => ({ key: c.id, fn: native.gemm(c, ops.get(c.id)) })));
    } else res.nN = res.n1;
    native.setThreads(threads0);
  }
  tsTarget.activate();
  const tsCases = gemmCases.filter((c) => Math.max(c.m, c.n, c.k) <= tsMax || c.group === 'mlp');
  res.ts = suite('gemm ts', tsCases.map((c) => ({ key: c.id, fn: tsTarget.gemm(c, ops.get(c.id)) })));

  const gf = (r, c) => (r && !r.error ? (r.hz * gemmFlops(c)) / 1e9 : null);
  for (const group of ['square', 'mlp']) {
    out(group === 'square' ? '### Square (A·B, M = N = K)' : '### MLP 784-256-256-10 shapes at batch 128 (M×N×K)');
    out();
    const rows = gemmCases.filter((c) => c.group === group).map((c) => {
      const g1 = gf(res.n1.get(c.id), c);
      const gN = gf(res.nN.get(c.id), c);
      const gT = gf(res.ts.get(c.id), c);
      return [
        c.label, c.op, num(gemmFlops(c) / 1e6), withRme(res.n1.get(c.id), (h) => (h * gemmFlops(c)) / 1e9),
        pct(g1 && (100 * g1 * 1e9) / peak(1)),
        withRme(res.nN.get(c.id), (h) => (h * gemmFlops(c)) / 1e9), pct(gN && (100 * gN * 1e9) / peak(N)),
        withRme(res.ts.get(c.id), (h) => (h * gemmFlops(c)) / 1e9), pct(gT && (100 * gT * 1e9) / peak(1)),
        ratio(gN && gT && gN / gT),
      ];
    });
    out(table(['shape', 'op', 'MFLOP', 'native 1T GFLOP/s', '% peak (1 core)', `native ${N}T GFLOP/s`, `% peak (${cores(N)})`,
      'TS GFLOP/s', '% peak (1 core)', `native ${N}T / TS`], rows, ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
    out();
  }
}

// ---------------------------------------------------------------------------------------------
// MLP: measurements cached so the peers section can reuse fathom's numbers.
const cache = new Map();
const key = (t, kind, opt, batch) => `${t.name}/${kind}/${opt}/${batch}`;

/** specs: [{ kind: 'train'|'infer', opt, batch }] measured for target t (one suite). */
async function measure(t, specs) {
  const todo = specs.filter((s) => !cache.has(key(t, s.kind, s.opt, s.batch)));
  if (!todo.length || t.unavailable) return;
  await t.activate();
  const cases = todo.map((s) => {
    const mlp = t.makeMlp(s.opt ?? 'sgd');
    const data = t.makeData(fixedData(s.batch));
    const fn = s.kind === 'train' ? () => t.trainStep(mlp, data) : () => t.infer(mlp, data);
    return { key: key(t, s.kind, s.opt, s.batch), fn };
  });
  for (const [k, v] of suite(`${t.name}`, cases)) cache.set(k, v);
}
const sps = (t, kind, opt, batch) => {
  const r = cache.get(key(t, kind, opt, batch));
  return r && !r.error ? r.hz * batch : null;
};
const spsCell = (t, kind, opt, batch) => {
  const r = cache.get(key(t, kind, opt, batch));
  if (t.unavailable) return 'unavailable';
  return r ? withRme(r, (h) => h * batch) : DASH;
};

const latCache = new Map();
async function measureLatency(t) {
  if (t.unavailable || latCache.has(t.name)) return;
  await t.activate();
  const mlp = t.makeMlp('sgd');
  const data = t.makeData(fixedData(1));
  log(`  ${t.name} / batch-1 latency`);
  latCache.set(t.name, latency(() => t.infer(mlp, data)));
}

const trainBatches = quick ? [32, 128] : TRAIN_BATCHES;
const inferBatches = INFER_BATCHES;

async function mlpSection() {
  out(`## MLP ${MLP.sizes.join('-')} (ReLU, softmax cross-entropy from logits; ${num(mlpParams)} parameters)`);
  out();
  out('### Training: samples/s of one step `loss = losses.crossEntropy(model.forward(x), y); opt.zeroGrad(); loss.backward(); opt.step()`');
  out();
  out(`Fixed random data, no data loading in the timed part. Useful FLOP per sample = ${num(mlpTrainFlops)} ` +
    `(forward ${num(mlpForwardFlops)} + dW ${num(mlpForwardFlops)} + dX of layers 2–3 ${num(mlpTrainFlops - 2 * mlpForwardFlops)}; ` +
    `the input needs no gradient). % peak: useful FLOP/s against the peak of the threads used (native ${native.unavailable ? DASH : T}, TS 1). ` +
    `TS at batch ${TRAIN_BATCH_SLOW} only. SGD lr ${MLP.lr.sgd}, Adam lr ${MLP.lr.adam}.`);
  out();
  const specsN = OPTIMIZERS.flatMap((opt) => trainBatches.map((batch) => ({ kind: 'train', opt, batch })));
  await measure(native, specsN);
  await measure(tsTarget, OPTIMIZERS.map((opt) => ({ kind: 'train', opt, batch: TRAIN_BATCH_SLOW })));
  const rows = [];
  for (const opt of OPTIMIZERS) {
    for (const batch of trainBatches) {
      const sN = sps(native, 'train', opt, batch);
      const sT = batch === TRAIN_BATCH_SLOW ? sps(tsTarget, 'train', opt, batch) : null;
      rows.push([
        opt === 'adam' ? 'Adam' : 'SGD', String(batch), spsCell(native, 'train', opt, batch),
        num(sN && (sN * mlpTrainFlops) / 1e9), pct(sN && (100 * sN * mlpTrainFlops) / peak(T)),
        batch === TRAIN_BATCH_SLOW ? spsCell(tsTarget, 'train', opt, batch) : DASH,
        pct(sT && (100 * sT * mlpTrainFlops) / peak(1)), ratio(sN && sT && sN / sT),
      ]);
    }
  }
  out(table(['optimizer', 'batch', `native samples/s (${T}T)`, 'native useful GFLOP/s', `native % peak (${cores(T)})`,
    'TS samples/s', 'TS % peak (1 core)', 'native / TS'], rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  out();

  out('### Inference: samples/s of `model.predict(x)` (no tape)');
  out();
  out(`Useful FLOP per sample = ${num(mlpForwardFlops)}.`);
  out();
  const ispecs = inferBatches.map((batch) => ({ kind: 'infer', opt: 'sgd', batch }));
  await measure(native, ispecs);
  await measure(tsTarget, ispecs);
  await measureLatency(native);
  await measureLatency(tsTarget);
  out(table(['batch', `native samples/s (${T}T)`, `native % peak (${cores(T)})`, 'TS samples/s', 'TS % peak (1 core)', 'native / TS'],
    inferBatches.map((batch) => {
      const sN = sps(native, 'infer', 'sgd', batch);
      const sT = sps(tsTarget, 'infer', 'sgd', batch);
      return [String(batch), spsCell(native, 'infer', 'sgd', batch), pct(sN && (100 * sN * mlpForwardFlops) / peak(T)),
        spsCell(tsTarget, 'infer', 'sgd', batch), pct(sT && (100 * sT * mlpForwardFlops) / peak(1)), ratio(sN && sT && sN / sT)];
    })));
  out();
  out('### Batch-1 inference latency (µs, one `model.predict` call; timed loop after 20 warm-up calls)');
  out();
  const lrow = (t) => {
    const l = latCache.get(t.name);
    return [t.name, l ? num(l.median) : 'unavailable', l ? num(l.p99) : DASH, l ? num(l.mean) : DASH, l ? String(l.n) : DASH];
  };
  out(table(['backend', 'median', 'p99', 'mean', 'calls'], [lrow(native), lrow(tsTarget)]));
  out();
}

// ---------------------------------------------------------------------------------------------
// Peers
async function peersSection() {
  const peers = [(await import('./targets/tfjs-cpu.js')).default, (await import('./targets/tfjs-wasm.js')).default];
  for (const p of peers) await p.init();
  out('## Peers: TensorFlow.js (same model, step and data)');
  out();
  out('tfjs: `tf.sequential` of dense 256 relu, dense 256 relu, dense 10; step = `tf.tidy(() => optimizer.minimize(() => ' +
    'tf.losses.softmaxCrossEntropy(yOneHot, model.apply(x)), false, vars))` with `tf.train.sgd` / `tf.train.adam` (same learning rates); ' +
    'inference = `model.predict(x)` + `dataSync()`. ratio = fathom native / peer (> 1: fathom is faster).');
  out();
  for (const p of peers) out(`- **${p.name}**: ${p.unavailable ? p.unavailable : p.detail}`);
  out(`- **fathom-native**: ${native.unavailable ?? `isa ${nInfo.isa}, ${T} threads`}; **fathom-ts**: pure TypeScript, 1 thread`);
  out();
  const b = TRAIN_BATCH_SLOW;
  const all = [native, tsTarget, ...peers];
  for (const t of all) {
    await measure(t, [...OPTIMIZERS.map((opt) => ({ kind: 'train', opt, batch: b })),
      ...PEER_INFER_BATCHES.map((batch) => ({ kind: 'infer', opt: 'sgd', batch }))]);
    await measureLatency(t);
  }
  const rel = (t, kind, opt, batch) => {
    const f = sps(native, kind, opt, batch);
    const p = sps(t, kind, opt, batch);
    return t === native ? '1×' : ratio(f && p && f / p);
  };
  out(`### Training, batch ${b}: samples/s`);
  out();
  out(table(['target', 'SGD samples/s', 'SGD useful GFLOP/s', 'fathom / this', 'Adam samples/s', 'Adam useful GFLOP/s', 'fathom / this'],
    all.map((t) => [t.name,
      ...OPTIMIZERS.flatMap((opt) => {
        const s = sps(t, 'train', opt, b);
        return [spsCell(t, 'train', opt, b), num(s && (s * mlpTrainFlops) / 1e9), rel(t, 'train', opt, b)];
      })])));
  out();
  out('### Inference: samples/s at batch 1 and 256, batch-1 latency');
  out();
  out(table(['target', 'batch 1 samples/s', 'fathom / this', 'batch 256 samples/s', 'fathom / this', 'batch-1 median µs', 'batch-1 p99 µs'],
    all.map((t) => {
      const l = latCache.get(t.name);
      return [t.name, ...PEER_INFER_BATCHES.flatMap((batch) => [spsCell(t, 'infer', 'sgd', batch), rel(t, 'infer', 'sgd', batch)]),
        l ? num(l.median) : DASH, l ? num(l.p99) : DASH];
    })));
  out();
}

const sections = {
  isa: () => (native.unavailable ? out(`_ISA comparison skipped: ${native.unavailable}._\n`) : isaSection({ quick, machine: m, out, log })),
  gemm: gemmSection, mlp: mlpSection, peers: peersSection,
  cnn: () => cnnSection({ quick, machine: m, native, tsTarget, out, log }),
  rnn: () => rnnSection({ quick, machine: m, native, out, log }),
  optim: () => optimSection({ native, tsTarget, fathom, quick, out, threads: T }),
};
for (const name of SECTIONS) {
  if (!only.includes(name)) continue;
  const snap = cpuSnapshot();
  const t0 = Date.now();
  await sections[name]();
  const o = othersSince(snap);
  const took = `Section time ${((Date.now() - t0) / 1000).toFixed(0)} s`;
  if (o != null) {
    out(`_${took}. Other processes kept ${o.toFixed(2)} of the ${m.cores} CPUs busy during this section` +
      `${o > 0.25 ? ': the multi-thread numbers above are low, rerun on an idle machine' : ''}._`);
  } else out(`_${took}._`);
  out();
}
out(`_Total bench time ${((Date.now() - started) / 1000).toFixed(0)} s._`);
