/**
 * bench/cnn.js — the CNN section: the bench net of issue #10 (cases.CNN) trained and run.
 *
 *  1. Native, every SIMD ISA: the training step (batch 64, SGD) and batch-256 inference through
 *     the public API (nn.Sequential of nn.Conv2d …; targets/fathom.js), each ISA in its own child
 *     process (isa-child.js --section cnn, FATHOM_ISA=<isa>), interleaved over rounds as isa.js
 *     does; samples/s, GFLOP/s, % of the FP32 peak of the pool's threads, against the targets.
 *  2. Native vs fathom's TS backend vs TensorFlow.js (cpu; wasm, which cannot train a CNN),
 *     the slow single-threaded ones timed over a few calls (runner.slowCalls).
 *  3. Where the native step's time goes: every raw kernel of the step at the net's shapes
 *     (cnn-kernels.js, timed in the same children), its ms and % of the measured step, and the
 *     remainder, step − Σ kernels = autograd / JS overhead.
 */
import { CNN, CNN_TARGETS, CNN_SLOW_BATCHES, cnnLayers, cnnForwardFlops, cnnTrainFlops, fixedImages } from './cases.js';
import { isaRounds } from './isa.js';
import { median } from './isa-common.js';
import { table, num, pct, ratio, slowCalls, DASH } from './runner.js';

const CASES = [
  { key: 'cnn/train', kind: 'train', label: 'training step (SGD)', batch: CNN.trainBatch, flops: cnnTrainFlops, target: CNN_TARGETS.train },
  { key: 'cnn/infer', kind: 'infer', label: 'inference', batch: CNN.inferBatch, flops: cnnForwardFlops, target: CNN_TARGETS.infer },
];

const ms = (x) => (x == null || !Number.isFinite(x) ? DASH : x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 1 ? x.toFixed(2) : x.toFixed(3));

/** One slow target (TS backend or a tfjs backend): { sps, ms, n, batch } or { error, batch } per kind. */
async function slowTarget(t, quick) {
  const res = {};
  if (t.unavailable) return res;
  await t.activate();
  const b = quick ? CNN_SLOW_BATCHES.quick : CNN_SLOW_BATCHES.full;
  for (const c of CASES) {
    const batch = b[c.kind];
    const model = t.makeCnn();
    const data = t.makeCnnData(fixedImages(batch));
    const tiny = t.makeCnnData(fixedImages(2));
    const run = c.kind === 'train' ? (d) => t.trainStep(model, d) : (d) => t.infer(model, d);
    // tfjs cpu needs about a minute per training step of 64: one call is the cap.
    const oneCall = quick || (t.name === 'tfjs-cpu' && c.kind === 'train');
    process.stderr.write(`  cnn ${t.name} / ${c.kind} batch ${batch}\n`);
    try {
      const r = slowCalls(() => run(data), { warmup: () => run(tiny), seconds: oneCall ? 0 : 6, maxCalls: t.name === 'tfjs-wasm' ? 20 : 5 });
      res[c.kind] = { ...r, batch, sps: (1e3 * batch) / r.ms };
    } catch (e) {
      res[c.kind] = { batch, error: String(e.message).split('\n')[0] };
    }
  }
  return res;
}

/**
 * Runs the section and prints its tables. machine: machineInfo(); native, tsTarget: the fathom
 * targets; out/log: report line / progress line.
 */
export async function cnnSection({ quick, machine, native, tsTarget, out, log }) {
  const layers = cnnLayers();
  const arch = layers.map((l) => (l.type === 'conv' ? `conv ${l.k}×${l.k} ${l.out}` : l.type === 'pool' ? `max-pool ${l.k}`
    : l.type === 'linear' ? `dense ${l.out}` : l.type === 'relu' ? 'ReLU' : 'flatten')).join(' → ');
  out(`## CNN: the bench net of issue #10 (${CNN.input.slice(1).join('×')}×${CNN.input[0]} → ${arch})`);
  out();
  const flopTerms = layers.filter((l) => l.flops).map((l) => `${num(l.flops)} (${l.type === 'conv' ? 'conv' : 'dense'} ${l.inShape[0]}→${l.out})`);
  out(`FLOP per sample from the shapes (cases.js \`cnnLayers\`): forward ${flopTerms.join(' + ')} = **${num(cnnForwardFlops)}** ` +
    `(${(cnnForwardFlops / 1e6).toFixed(2)} M); a training step counts 3 × forward = ${num(cnnTrainFlops)} per sample, as the issue does ` +
    `(conv1's data gradient is not computed, so the kernels below do ${num(cnnTrainFlops - layers[0].flops)}). ` +
    `Softmax cross-entropy from the logits, SGD lr ${CNN.lr}, fixed random images; no data loading in the timed part.`);
  out();
  if (native.unavailable) {
    out(`_Native CNN rows skipped: ${native.unavailable}._`);
    out();
  }

  // 1. Native, every SIMD ISA, interleaved rounds in child processes.
  let samples = new Map();
  let meta = [];
  let isas = [], def = null, T = 1;
  if (!native.unavailable) {
    let rounds;
    ({ samples, meta, isas, def, T, rounds } = isaRounds('cnn', quick, log));
    out(`Rounds: ${rounds}. Each ISA runs in its own process (\`FATHOM_ISA=<isa>\`), the processes interleaved, every cell the median over rounds. ` +
      `The scalar reference is left out (seconds per step; the ISA section compares it).`);
    out();
  }
  const get = (isa, key) => {
    const v = samples.get(`${isa}|${key}`);
    return v ? median(v) : null;
  };
  const peak = (threads) => machine.peakCore * threads;
  const pk = (sps, c, threads) => (sps ? (100 * sps * c.flops) / peak(threads) : null);
  const isaName = (isa) => (isa === def ? `**${isa}** (default)` : isa);

  if (isas.length) {
    out(`### Native, every ISA: samples/s and % of the ${T}-core FP32 peak (${num(peak(T) / 1e9)} GFLOP/s)`);
    out();
    out(`Training step = \`loss = losses.crossEntropy(model.forward(x), y); opt.zeroGrad(); loss.backward(); opt.step()\`; ` +
      `inference = \`model.predict(x)\`; the model is an \`nn.Sequential\` of the public layers. ${T} pool threads.`);
    out();
    const rows = [];
    for (const c of CASES) {
      for (const isa of isas) {
        const s = get(isa, c.key);
        const p = pk(s, c, T);
        rows.push([c.label, isaName(isa), String(c.batch), num(s), ms(s && (1e3 * c.batch) / s), num(s && (s * c.flops) / 1e9), pct(p),
          `≥ ${c.target} %`, p == null ? DASH : p >= c.target ? 'yes' : 'no'].map(String));
      }
    }
    out(table(['case', 'ISA', 'batch', 'samples/s', 'ms per batch', 'GFLOP/s', `% peak (${T} cores)`, 'target', 'met?'], rows,
      ['l', 'l', 'r', 'r', 'r', 'r', 'r', 'r', 'c']));
    out();
  }

  // 2. Native vs TS vs TensorFlow.js.
  const peers = [];
  for (const file of ['./targets/tfjs-cpu.js', './targets/tfjs-wasm.js']) {
    const p = (await import(file)).default;
    await p.init();
    peers.push(p);
  }
  const slow = new Map();
  for (const t of [tsTarget, ...peers]) slow.set(t.name, await slowTarget(t, quick));
  out('### Native vs the TS backend vs TensorFlow.js');
  out();
  const b = quick ? CNN_SLOW_BATCHES.quick : CNN_SLOW_BATCHES.full;
  out(`tfjs: \`tf.sequential\` of conv2d (ReLU), maxPooling2d, flatten and dense layers in its NHWC layout, same shapes and FLOP; ` +
    `step \`tf.tidy(() => tf.train.sgd(${CNN.lr}).minimize(() => tf.losses.softmaxCrossEntropy(yOneHot, model.apply(x)), false, vars))\`, ` +
    `inference \`model.predict(x).dataSync()\`. The TS backend and tfjs run on one thread: % peak against one core. ` +
    `Slow targets: one warm-up call at batch 2, then the median of ${quick ? '1 call' : 'up to 5 calls within 6 s (tfjs cpu training: 1 call)'}` +
    `${quick ? `, at batch ${b.train} (training) and ${b.infer} (inference) with --quick` : ''}. "native / this" compares samples/s.`);
  out();
  for (const p of peers) out(`- **${p.name}**: ${p.unavailable ?? p.detail}`);
  out();
  for (const c of CASES) {
    const nS = def ? get(def, c.key) : null;
    const rows = [];
    if (def) rows.push([`fathom-native (${def}, ${T} threads)`, String(c.batch), num(nS), ms(nS && (1e3 * c.batch) / nS), num(nS && (nS * c.flops) / 1e9), pct(pk(nS, c, T)), '1×']);
    for (const t of [tsTarget, ...peers]) {
      const r = slow.get(t.name)[c.kind];
      if (t.unavailable || !r) rows.push([t.name, DASH, t.unavailable ?? DASH, DASH, DASH, DASH, DASH]);
      else if (r.error) rows.push([t.name, String(r.batch), `cannot: ${r.error}`, DASH, DASH, DASH, DASH]);
      else rows.push([t.name, String(r.batch), num(r.sps), ms(r.ms), num((r.sps * c.flops) / 1e9), pct(pk(r.sps, c, 1)), ratio(nS && nS / r.sps)]);
    }
    out(`#### ${c.label[0].toUpperCase()}${c.label.slice(1)}`);
    out();
    out(table(['target', 'batch', 'samples/s', 'ms per batch', 'GFLOP/s', '% peak (its threads)', 'native / this'], rows));
    out();
  }

  // 3. The share of time per kernel in the native training step.
  if (!isas.length || !meta.length) return;
  out(`### Where the native training step's time goes (batch ${CNN.trainBatch})`);
  out();
  out('Every raw kernel the step runs (`getBackendByName(\'native\')`: conv2d, conv2dBackwardData, conv2dBackwardWeight, ' +
    'maxPool2d and its backward, the ReLU, the linear layers\' GEMMs and bias/activation epilogues, softmax cross-entropy, ' +
    'sgdStep) at exactly the net\'s shapes, timed alone, and all of them back to back (the step with no overhead at all), in the same ' +
    'child process as the whole step and in alternation with it (a chunk of each in turn, the median chunk), so all see the same load. ' +
    '"% step" = ms / the whole step\'s ms; "% peak" = FLOP rate against the pool\'s peak (FLOP-bearing kernels; for the Σ, back-to-back ' +
    'and whole-step rows 3 × forward, as in the tables above). Step − kernels back to back = the autograd / JS overhead (the tape, tensor ' +
    'allocation and zero-fill, zeroGrad, the ops\' checks); back to back − Σ alone = what the kernels lose or gain in sequence (caches) ' +
    'plus noise. These kernels go through the checked backend (argument checks, about 1 µs a call).');
  out();
  const stepMs = (isa) => {
    const s = get(isa, 'cnn/train');
    return s ? (1e3 * CNN.trainBatch) / s : null;
  };
  const kms = (isa, id) => get(isa, `cnn/k/${id}`);
  const sumMs = (isa, pred = () => true) => meta.filter(pred).reduce((a, k) => a + (kms(isa, k.id) ?? 0), 0);
  const pctOf = (part, whole) => (part != null && whole ? (100 * part) / whole : null);
  const rate = (flops, t) => (flops && t ? (100 * flops) / (t / 1e3) / peak(T) : null);
  const head = ['phase', 'kernel', ...isas.flatMap((i) => [`${isaName(i)} ms`, '% step', '% peak'])];
  const rows = meta.map((k) => [k.phase, k.label, ...isas.flatMap((i) => {
    const t = kms(i, k.id);
    return [ms(t), pct(pctOf(t, stepMs(i))), k.flops ? pct(rate(k.flops, t)) : DASH];
  })]);
  const flopsAll = meta.reduce((a, k) => a + (k.flops ?? 0), 0);
  const issueFlops = cnnTrainFlops * CNN.trainBatch; // Σ and the step: counted as the issue counts, as in the tables above
  const b2b = (isa) => get(isa, 'cnn/kernels');
  rows.push(['', '**Σ kernels**, each timed alone', ...isas.flatMap((i) => [ms(sumMs(i)), pct(pctOf(sumMs(i), stepMs(i))), pct(rate(issueFlops, sumMs(i)))])]);
  rows.push(['', '**all kernels back to back** (timed alternating with the step)', ...isas.flatMap((i) => [ms(b2b(i)), pct(pctOf(b2b(i), stepMs(i))), pct(rate(issueFlops, b2b(i)))])]);
  rows.push(['', '**whole step** (public API)', ...isas.flatMap((i) => [ms(stepMs(i)), '100 %', pct(rate(issueFlops, stepMs(i)))])]);
  rows.push(['', '**autograd / JS overhead** = step − kernels back to back', ...isas.flatMap((i) => {
    const o = stepMs(i) - b2b(i);
    return [ms(o), pct(pctOf(o, stepMs(i))), DASH];
  })]);
  out(table(head, rows, ['l', 'l', ...Array(head.length - 2).fill('r')]));
  out();
  out('By kernel family:');
  out();
  const families = [...new Set(meta.map((k) => k.family))];
  const fam = families.map((f) => ({ f, calls: meta.filter((k) => k.family === f).length, flops: meta.filter((k) => k.family === f).reduce((a, k) => a + (k.flops ?? 0), 0) }));
  fam.sort((x, y) => sumMs(def, (k) => k.family === y.f) - sumMs(def, (k) => k.family === x.f));
  const fRows = fam.map(({ f, calls, flops }) => [f, String(calls), ...isas.flatMap((i) => {
    const t = sumMs(i, (k) => k.family === f);
    return [ms(t), pct(pctOf(t, stepMs(i))), flops ? pct(rate(flops, t)) : DASH];
  })]);
  fRows.push(['back to back − Σ alone (caches, noise)', DASH, ...isas.flatMap((i) => [ms(b2b(i) - sumMs(i)), pct(pctOf(b2b(i) - sumMs(i), stepMs(i))), DASH])]);
  fRows.push(['autograd / JS overhead', DASH, ...isas.flatMap((i) => [ms(stepMs(i) - b2b(i)), pct(pctOf(stepMs(i) - b2b(i), stepMs(i))), DASH])]);
  const fHead = ['family', 'calls', ...isas.flatMap((i) => [`${isaName(i)} ms`, '% step', '% peak'])];
  out(table(fHead, fRows, ['l', 'r', ...Array(fHead.length - 2).fill('r')]));
  out();

  // What limits it, in one paragraph, from the default ISA's numbers.
  const st = stepMs(def), sk = b2b(def);
  const convMs = sumMs(def, (k) => k.family.startsWith('conv2d'));
  const convFlops = meta.filter((k) => k.family.startsWith('conv2d')).reduce((a, k) => a + (k.flops ?? 0), 0);
  const memMs = sumMs(def, (k) => !k.flops);
  const fwd = meta.filter((k) => k.phase === 'forward');
  const fwdMs = sumMs(def, (k) => k.phase === 'forward');
  const trainPct = pk(get(def, 'cnn/train'), CASES[0], T), inferPct = pk(get(def, 'cnn/infer'), CASES[1], T);
  out(`**What limits it (${def}, measured above):** the training step runs at ${pct(trainPct)} of peak ` +
    `(target ≥ ${CNN_TARGETS.train} %: ${trainPct >= CNN_TARGETS.train ? 'met' : 'missed'}). Of its ${ms(st)} ms, the kernels take ${ms(sk)} ms back to back ` +
    `(${pct(pctOf(sk, st))}; ${ms(sumMs(def))} ms each timed alone): the convolution kernels (forward, data and weight gradients) ${ms(convMs)} ms = ${pct(pctOf(convMs, st))} of the step, ` +
    `running at ${pct(rate(convFlops, convMs))} of peak on their own; the memory-bound kernels (pooling, ReLU, bias gradients, epilogues, loss, SGD) ` +
    `${ms(memMs)} ms = ${pct(pctOf(memMs, st))}; autograd / JS overhead ${ms(st - sk)} ms = ${pct(pctOf(st - sk, st))}. ` +
    `With no overhead at all the kernels back to back would reach ${pct(rate(issueFlops, sk))} of peak (3 × forward; ` +
    `${pct(rate(flopsAll, sk))} from the FLOP they do). ` +
    `Inference runs at ${pct(inferPct)} (target ≥ ${CNN_TARGETS.infer} %: ${inferPct >= CNN_TARGETS.infer ? 'met' : 'missed'}); ` +
    `the step's forward kernels alone (batch ${CNN.trainBatch}) run at ${pct(rate(fwd.reduce((a, k) => a + (k.flops ?? 0), 0), fwdMs))} of peak.`);
  out();
}
