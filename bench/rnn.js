/**
 * bench/rnn.js — the RNN section (#11): the recurrent bench model (cases.RNN: one LSTM or GRU layer,
 * input 64, hidden 128, sequence 32, last step → dense 10, softmax cross-entropy, SGD) trained
 * (batch 32) and run (batch 256).
 *
 *  1. Native, every SIMD ISA, each in its own child process (isa-child.js --section rnn), the
 *     processes interleaved over rounds: samples/s, GFLOP/s, % of the FP32 peak of the pool's
 *     threads, and the process CPU time per call (the machine is shared: CPU time is what the
 *     kernels cost, wall time what another process's load leaves of it), against the target.
 *  2. Native vs fathom's TS backend vs TensorFlow.js cpu (tf.layers.lstm / gru), the slow ones
 *     timed over a few calls (runner.slowCalls).
 *  3. Where the native LSTM step's time goes: its raw kernels (rnn-kernels.js), timed alone and
 *     back to back in alternation with the step; step − back to back = autograd / JS overhead.
 */
import { RNN, RNN_TARGETS, RNN_SLOW_BATCHES, rnnForwardFlops, rnnTrainFlops, fixedSequences } from './cases.js';
import { isaRounds } from './isa.js';
import { median } from './isa-common.js';
import { table, num, pct, ratio, slowCalls, DASH } from './runner.js';
import { makeFathomRnn, makeFathomSeqData, fathomRnnStep, fathomRnnInfer, makeTfRnn, makeTfSeqData, tfRnnStep, tfRnnInfer } from './rnn-models.js';

const CASES = ['lstm', 'gru'].flatMap((mode) => [
  { key: `rnn/${mode}/train`, mode, kind: 'train', label: `${mode.toUpperCase()} training step (SGD)`, batch: RNN.trainBatch,
    flops: rnnTrainFlops(mode), target: mode === 'lstm' ? RNN_TARGETS.lstmTrain : null },
  { key: `rnn/${mode}/infer`, mode, kind: 'infer', label: `${mode.toUpperCase()} inference`, batch: RNN.inferBatch,
    flops: rnnForwardFlops(mode).total, target: null },
]);

const ms = (x) => (x == null || !Number.isFinite(x) ? DASH : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** One slow target: { [key]: { sps, ms, n, batch } | { error, batch } }. t: { name, unavailable, activate, step(mode, batch) → fns }. */
function slowTarget(name, make, quick, log) {
  const res = {};
  const b = quick ? RNN_SLOW_BATCHES.quick : RNN_SLOW_BATCHES.full;
  for (const c of CASES) {
    const batch = b[c.kind];
    log(`  rnn ${name} / ${c.mode} ${c.kind} batch ${batch}`);
    try {
      const { run, warm } = make(c, batch);
      const r = slowCalls(run, { warmup: warm, seconds: quick ? 0 : 5, maxCalls: quick ? 1 : 5 });
      res[c.key] = { ...r, batch, sps: (1e3 * batch) / r.ms };
    } catch (e) {
      res[c.key] = { batch, error: String(e.message).split('\n')[0] };
    }
  }
  return res;
}

export async function rnnSection({ quick, machine, native, out, log }) {
  const f = rnnForwardFlops('lstm'), fg = rnnForwardFlops('gru');
  out(`## RNN: one LSTM / GRU layer (input ${RNN.input}, hidden ${RNN.hidden}, sequence ${RNN.steps}) → last step → dense ${RNN.classes}`);
  out();
  out(`FLOP per sample from the shapes (cases.js \`rnnForwardFlops\`): LSTM forward ${num(f.projection)} (input projection, ${RNN.steps} × 2·${RNN.input}·4·${RNN.hidden}) + ` +
    `${num(f.recurrence)} (recurrence, ${RNN.steps} × 2·${RNN.hidden}·4·${RNN.hidden}) + ${num(f.dense)} (dense) = **${num(f.total)}** (${(f.total / 1e6).toFixed(2)} M); ` +
    `GRU ${num(fg.total)}. A training step counts 3 × forward, as the issue does. Gate non-linearities are not counted. ` +
    `Softmax cross-entropy from the logits, SGD lr ${RNN.lr}, fixed random sequences; no data loading in the timed part.`);
  out();
  let samples = new Map();
  let meta = [], isas = [], def = null, T = 1;
  if (native.unavailable) {
    out(`_Native RNN rows skipped: ${native.unavailable}._`);
    out();
  } else {
    let rounds;
    ({ samples, meta, isas, def, T, rounds } = isaRounds('rnn', quick, log));
    out(`Rounds: ${rounds}. Each ISA runs in its own process (\`FATHOM_ISA=<isa>\`), the processes interleaved, every cell the median over rounds. ` +
      `The scalar reference is left out.`);
    out();
  }
  const get = (isa, key) => {
    const v = samples.get(`${isa}|${key}`);
    return v ? median(v) : null;
  };
  const peak = (threads) => machine.peakCore * threads;
  const pk = (sps, c, threads) => (sps ? (100 * sps * c.flops) / peak(threads) : null);
  const isaName = (isa) => (isa === def ? `**${isa}** (default)` : isa);
  const cpuPk = (isa, c) => { // FLOP per CPU-second of the process, against one core's peak
    const cpu = get(isa, `${c.key}/cpu`);
    return cpu ? (100 * c.batch * c.flops) / (cpu / 1e3) / peak(1) : null;
  };

  if (isas.length) {
    out(`### Native, every ISA: samples/s and % of the ${T}-core FP32 peak (${num(peak(T) / 1e9)} GFLOP/s)`);
    out();
    out(`Training step = \`loss = losses.crossEntropy(fc.forward(h_T), y); opt.zeroGrad(); loss.backward(); opt.step()\` with ` +
      `\`nn.LSTM\` / \`nn.GRU\` (batchFirst) and \`nn.Linear\`; inference = the same forward under \`noGrad\`. ${T} pool threads. ` +
      `"CPU ms" = process CPU time per call (all threads); "% peak by CPU" = FLOP per CPU-second against one core's peak: ` +
      `the wall-time % the same work reaches when its ${T} threads have the cores to themselves, which on a shared machine ` +
      `the wall-time column does not show.`);
    out();
    const rows = [];
    for (const c of CASES) {
      for (const isa of isas) {
        const s = get(isa, c.key);
        const p = pk(s, c, T);
        rows.push([c.label, isaName(isa), String(c.batch), num(s), ms(s && (1e3 * c.batch) / s), ms(get(isa, `${c.key}/cpu`)),
          num(s && (s * c.flops) / 1e9), pct(p), pct(cpuPk(isa, c)), c.target ? `≥ ${c.target} %` : DASH,
          c.target == null || p == null ? DASH : p >= c.target ? 'yes' : 'no'].map(String));
      }
    }
    out(table(['case', 'ISA', 'batch', 'samples/s', 'ms per batch', 'CPU ms', 'GFLOP/s', `% peak (${T} cores)`, '% peak by CPU', 'target', 'met?'], rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'c']));
    out();
  }

  // 2. Native vs TS vs TensorFlow.js cpu.
  const fathom = await import('../dist/index.js');
  const ts = slowTarget('fathom-ts', (c, batch) => {
    fathom.setBackend('ts');
    const m = makeFathomRnn(fathom, c.mode);
    const d = makeFathomSeqData(fathom, fixedSequences(batch)), tiny = makeFathomSeqData(fathom, fixedSequences(2));
    const fn = c.kind === 'train' ? (x) => fathomRnnStep(fathom, m, x) : (x) => fathomRnnInfer(fathom, m, x);
    return { run: () => fn(d), warm: () => fn(tiny) };
  }, quick, log);
  if (!native.unavailable) fathom.setBackend('native');
  const tfc = (await import('./targets/tfjs-cpu.js')).default;
  await tfc.init();
  let tfRes = {};
  if (!tfc.unavailable) {
    await tfc.activate();
    const { tf } = await (await import('./targets/tfjs.js')).loadTf();
    tfRes = slowTarget('tfjs-cpu', (c, batch) => {
      const m = makeTfRnn(tf, c.mode);
      const d = makeTfSeqData(tf, fixedSequences(batch)), tiny = makeTfSeqData(tf, fixedSequences(2));
      const fn = c.kind === 'train' ? (x) => tfRnnStep(tf, m, x) : (x) => tfRnnInfer(tf, m, x);
      return { run: () => fn(d), warm: () => fn(tiny) };
    }, quick, log);
  }
  const b = quick ? RNN_SLOW_BATCHES.quick : RNN_SLOW_BATCHES.full;
  out('### Native vs the TS backend vs TensorFlow.js');
  out();
  out(`tfjs: \`tf.sequential([tf.layers.lstm | gru({ units: ${RNN.hidden} }), tf.layers.dense({ units: ${RNN.classes} })])\`, step ` +
    `\`tf.train.sgd(${RNN.lr}).minimize(softmaxCrossEntropy)\`, inference \`model.predict(x).dataSync()\` (${tfc.unavailable ?? tfc.detail}). ` +
    `The TS backend and tfjs run on one thread: % peak against one core. Slow targets: one warm-up call at batch 2, then ` +
    `${quick ? `1 call at batch ${b.train} (training) and ${b.infer} (inference)` : 'the median of up to 5 calls within 5 s'}. "native / this" compares samples/s.`);
  out();
  const rows = [];
  for (const c of CASES) {
    const nS = def ? get(def, c.key) : null;
    if (def) rows.push([c.label, `fathom-native (${def}, ${T} threads)`, String(c.batch), num(nS), ms(nS && (1e3 * c.batch) / nS), pct(pk(nS, c, T)), '1×']);
    for (const [name, res, why] of [['fathom-ts', ts, null], ['tfjs-cpu', tfRes, tfc.unavailable]]) {
      const r = res[c.key];
      if (why || !r) rows.push([c.label, name, DASH, why ?? DASH, DASH, DASH, DASH]);
      else if (r.error) rows.push([c.label, name, String(r.batch), `cannot: ${r.error}`, DASH, DASH, DASH]);
      else rows.push([c.label, name, String(r.batch), num(r.sps), ms(r.ms), pct(pk(r.sps, c, 1)), ratio(nS && nS / r.sps)]);
    }
  }
  out(table(['case', 'target', 'batch', 'samples/s', 'ms per batch', '% peak (its threads)', 'native / this'], rows));
  out();

  // 3. Where the LSTM step's time goes.
  if (!isas.length || !meta.length) return;
  out(`### Where the native LSTM training step's time goes (batch ${RNN.trainBatch})`);
  out();
  out('Every raw kernel group of the step (`getBackendByName(\'native\')`, rnn-kernels.js) at the model\'s shapes, timed alone and all back ' +
    'to back, in alternation with the whole step in the same child process. "% step" = ms / the step\'s ms; "% peak" = its FLOP rate ' +
    `against the ${T}-core peak. Step − back to back = autograd / JS overhead (the tape, tensor allocation, reshapes, checks, zeroGrad).`);
  out();
  const stepMs = (isa) => { const s = get(isa, 'rnn/lstm/train'); return s ? (1e3 * RNN.trainBatch) / s : null; };
  const kms = (isa, id) => get(isa, `rnn/k/${id}`);
  const pctOf = (part, whole) => (part != null && whole ? (100 * part) / whole : null);
  const rate = (flops, t) => (flops && t ? (100 * flops) / (t / 1e3) / peak(T) : null);
  const head = ['kernels', ...isas.flatMap((i) => [`${isaName(i)} ms`, '% step', '% peak'])];
  const krows = meta.map((k) => [`${k.partOf ? '  ↳ ' : ''}${k.label}`, ...isas.flatMap((i) => {
    const t = kms(i, k.id);
    return [ms(t), pct(pctOf(t, stepMs(i))), k.flops ? pct(rate(k.flops, t)) : DASH];
  })]);
  const issue = rnnTrainFlops('lstm') * RNN.trainBatch;
  const b2b = (isa) => get(isa, 'rnn/kernels');
  krows.push(['**all kernels back to back**', ...isas.flatMap((i) => [ms(b2b(i)), pct(pctOf(b2b(i), stepMs(i))), pct(rate(issue, b2b(i)))])]);
  krows.push(['**whole step** (public API)', ...isas.flatMap((i) => [ms(stepMs(i)), '100 %', pct(rate(issue, stepMs(i)))])]);
  krows.push(['**autograd / JS overhead** = step − back to back', ...isas.flatMap((i) => [ms(stepMs(i) - b2b(i)), pct(pctOf(stepMs(i) - b2b(i), stepMs(i))), DASH])]);
  out(table(head, krows, ['l', ...Array(head.length - 1).fill('r')]));
  out();
  const c0 = CASES[0];
  const p = pk(get(def, c0.key), c0, T), pc = cpuPk(def, c0);
  const top = meta.filter((k) => !k.partOf).map((k) => ({ k, t: kms(def, k.id) })).sort((a, z) => z.t - a.t);
  out(`**What limits it (${def}, measured above):** the LSTM step runs at ${pct(p)} of the ${T}-core peak by wall time ` +
    `(target ≥ ${RNN_TARGETS.lstmTrain} %: ${p >= RNN_TARGETS.lstmTrain ? 'met' : 'missed'}) and ${pct(pc)} by CPU time. ` +
    `Largest kernels: ${top.slice(0, 3).map(({ k, t }) => `${k.label} ${ms(t)} ms (${pct(pctOf(t, stepMs(def)))} of the step, ${k.flops ? pct(rate(k.flops, t)) : DASH} of peak)`).join('; ')}; ` +
    `autograd / JS ${ms(stepMs(def) - b2b(def))} ms (${pct(pctOf(stepMs(def) - b2b(def), stepMs(def)))}, one thread). ` +
    `The process spent ${ms(get(def, 'rnn/lstm/train/cpu'))} ms of CPU per step against ${ms(stepMs(def))} ms of wall time: with its ${T} threads on idle cores ` +
    `the step could take about ${ms(get(def, 'rnn/lstm/train/cpu') / T)} ms; what separates the two is the other processes' load (the line below) ` +
    `and the single-threaded parts (autograd / JS, the tape's allocations).`);
  out();
}
