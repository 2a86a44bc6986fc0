#!/usr/bin/env node
/**
 * One ISA's measurements, run by isa.js in a child process with FATHOM_ISA=<isa> (the kernel table
 * is chosen once per process, so every ISA needs its own). Prints one JSON object on stdout:
 *   { isa, threads, maxThreads, results: { <key>: number } }
 * Keys: gemm/<case>/<threads>T (GFLOP/s), lat/<threads>T/p50|p99 (µs), infer256 / sgd128 /
 * adam128 (samples/s on the default thread count); cnn/train, cnn/infer (the bench CNN's samples/s,
 * batch 64 training step and batch 256 inference), cnn/kernels (ms of all the step's raw kernels
 * back to back) and cnn/k/<id> (ms per raw kernel call, each alone; cnn-kernels.js), timed in
 * alternation with the step, with `kernels` (id, label, family, phase, flops of each) next to `results`.
 *
 * rnn/<lstm|gru>/<train|infer> (the recurrent bench model's samples/s, batch 32 step and batch 256
 * inference; rnn-models.js), rnn/<…>/cpu (process CPU ms per call over the same runs), rnn/kernels and
 * rnn/k/<id> (the LSTM step's raw kernels, rnn-kernels.js; `rnnKernels` next to `results`).
 *
 *   node bench/isa-child.js --section gemm|latency|mlp|cnn|rnn [--quick]
 *   node bench/isa-child.js --section info      (the default ISA and what this CPU can run)
 */
import { gemmCases, gemmOperands, fixedData, fixedImages, CNN } from './cases.js';
import { cnnStepKernels } from './cnn-kernels.js';
import native from './targets/fathom-native.js';
import { ISA_GEMM_CASES, ISA_LATENCY_CALLS, rate, percentiles, pairedRates } from './isa-common.js';

const argv = process.argv.slice(2);
const section = argv[argv.indexOf('--section') + 1];
const quick = argv.includes('--quick');

if (native.unavailable) {
  process.stdout.write(JSON.stringify({ error: native.unavailable }));
  process.exit(0);
}
const { nativeInfo } = await import('../dist/backend/index.js');
const info = nativeInfo();
const N = native.maxThreads;
const results = {};
let kernels;
const seconds = quick ? 0.25 : 0.5;
native.activate();

if (section === 'gemm') {
  for (const id of ISA_GEMM_CASES) {
    const c = gemmCases.find((g) => g.id === id);
    const fn = native.gemm(c, gemmOperands(c));
    for (const th of N > 1 ? [1, N] : [1]) {
      native.setThreads(th);
      results[`gemm/${id}/${th}T`] = (rate(fn, seconds) * 2 * c.m * c.n * c.k) / 1e9;
    }
  }
  native.setThreads(N);
} else if (section === 'latency') {
  const mlp = native.makeMlp('sgd');
  const data = native.makeData(fixedData(1));
  const calls = quick ? ISA_LATENCY_CALLS.quick : ISA_LATENCY_CALLS.full;
  for (const th of N > 1 ? [1, N] : [1]) {
    native.setThreads(th);
    const p = percentiles(() => native.infer(mlp, data), calls);
    results[`lat/${th}T/p50`] = p.p50;
    results[`lat/${th}T/p99`] = p.p99;
  }
  native.setThreads(N);
} else if (section === 'mlp') {
  const cells = [
    { key: 'infer256', batch: 256, opt: 'sgd', run: (m, d) => native.infer(m, d) },
    { key: 'sgd128', batch: 128, opt: 'sgd', run: (m, d) => native.trainStep(m, d) },
    { key: 'adam128', batch: 128, opt: 'adam', run: (m, d) => native.trainStep(m, d) },
  ];
  for (const cell of cells) {
    const mlp = native.makeMlp(cell.opt);
    const data = native.makeData(fixedData(cell.batch));
    results[cell.key] = rate(() => cell.run(mlp, data), seconds) * cell.batch;
  }
} else if (section === 'cnn') {
  // The training step through the public API (nn.Sequential …), all its raw kernels back to back
  // at the same shapes on the same backend (cnn-kernels.js), and each kernel alone, measured in
  // alternation so that all of them see the same load from other processes; step − kernels back
  // to back is the autograd / JS overhead. Then batch-256 inference.
  const { getBackendByName } = await import('../dist/backend/index.js');
  kernels = cnnStepKernels(getBackendByName('native'), CNN.trainBatch);
  const ks = kernels;
  const train = { cnn: native.makeCnn(), data: native.makeCnnData(fixedImages(CNN.trainBatch)) };
  const [stepRate, allRate, ...kRates] = pairedRates([
    () => native.trainStep(train.cnn, train.data),
    () => { for (const k of ks) k.fn(); },
    ...ks.map((k) => k.fn),
  ], quick ? 1.5 : 4);
  results['cnn/train'] = stepRate * CNN.trainBatch;
  results['cnn/kernels'] = 1e3 / allRate; // ms
  ks.forEach((k, i) => { results[`cnn/k/${k.id}`] = 1e3 / kRates[i]; });
  const infer = { cnn: native.makeCnn(), data: native.makeCnnData(fixedImages(CNN.inferBatch)) };
  results['cnn/infer'] = rate(() => native.infer(infer.cnn, infer.data), quick ? 0.5 : 1) * CNN.inferBatch;
  kernels = ks.map(({ id, label, family, phase, flops }) => ({ id, label, family, phase, flops }));
} else if (section === 'rnn') {
  // #11 lstmperf: the recurrent bench model; wall rates and process CPU time per call.
  const fathom = await import('../dist/index.js');
  const { getBackendByName } = await import('../dist/backend/index.js');
  const { makeFathomRnn, makeFathomSeqData, fathomRnnStep, fathomRnnInfer } = await import('./rnn-models.js');
  const { rnnStepKernels } = await import('./rnn-kernels.js');
  const { RNN, fixedSequences } = await import('./cases.js');
  const cpuRate = (fn, secs) => { // { rate (calls/s wall), cpu (ms per call) }
    fn();
    const u0 = process.cpuUsage(), t0 = performance.now();
    let calls = 0;
    while (calls < 3 || performance.now() - t0 < secs * 1e3) { fn(); calls++; }
    const u = process.cpuUsage(u0);
    return { rate: (1e3 * calls) / (performance.now() - t0), cpu: (u.user + u.system) / 1e3 / calls };
  };
  for (const mode of ['lstm', 'gru']) {
    const m = makeFathomRnn(fathom, mode);
    const train = makeFathomSeqData(fathom, fixedSequences(RNN.trainBatch));
    const step = () => fathomRnnStep(fathom, m, train);
    if (mode === 'lstm') {
      const ks = rnnStepKernels(getBackendByName('native'), 'lstm', RNN.trainBatch);
      const main = ks.filter((k) => !k.partOf);
      const [stepRate, allRate, ...kRates] = pairedRates([step, () => { for (const k of main) k.fn(); }, ...ks.map((k) => k.fn)], quick ? 1 : 4);
      results['rnn/lstm/train'] = stepRate * RNN.trainBatch;
      results['rnn/kernels'] = 1e3 / allRate;
      ks.forEach((k, i) => { results[`rnn/k/${k.id}`] = 1e3 / kRates[i]; });
      kernels = ks.map(({ id, label, family, flops, partOf }) => ({ id, label, family, flops, partOf: partOf ?? null }));
    }
    const t = cpuRate(step, quick ? 0.3 : 1.5);
    if (mode !== 'lstm') results[`rnn/${mode}/train`] = t.rate * RNN.trainBatch;
    results[`rnn/${mode}/train/cpu`] = t.cpu;
    const inf = makeFathomSeqData(fathom, fixedSequences(RNN.inferBatch));
    const i = cpuRate(() => fathomRnnInfer(fathom, m, inf), quick ? 0.3 : 1.5);
    results[`rnn/${mode}/infer`] = i.rate * RNN.inferBatch;
    results[`rnn/${mode}/infer/cpu`] = i.cpu;
  }
} else if (section !== 'info') {
  process.stderr.write(`isa-child: unknown --section '${section}'\n`);
  process.exit(2);
}

process.stdout.write(JSON.stringify({ isa: info.isa, isas: info.isas, threads: info.threads, maxThreads: N, results, ...(kernels ? { kernels } : {}) }));
