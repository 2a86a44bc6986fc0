/**
 * `fathom train --task gan [--model mlp|dcgan]`: a generative adversarial
 * network on MNIST (Goodfellow et al. 2014), trained as PyTorch's DCGAN
 * example does (pytorch/examples dcgan/main.py):
 *
 *   per batch of real digits x [N, 784] in [−1, 1] and noise z [N, Z] ~ N(0, 1):
 *     fake = G(z)                                         (recorded on the tape)
 *     D step  lossD = BCE(D(x), 1) + BCE(D(fake.detach()), 0)    Adam on D only
 *     G step  lossG = BCE(D(fake), 1)   (the non-saturating loss, −log D(G(z)))
 *             with D's parameters frozen (no weight gradients computed)  Adam on G only
 *
 * BCE is binaryCrossEntropy on logits (D has no final sigmoid). Both
 * optimizers are Adam(lr 2e-4, betas [0.5, 0.999]) (Radford et al. 2015).
 *
 *   mlp    G  z [N, 64] → Linear 256 → ReLU → Linear 512 → ReLU → Linear 784 → tanh → [N, 784]
 *          D  x [N, 784] → Linear 512 → LeakyReLU 0.2 → Linear 256 → LeakyReLU 0.2 → Linear 1
 *   dcgan  G  z [N, 64] → Linear 2C·7·7 → BatchNorm1d → ReLU → [N, 2C, 7, 7]
 *               → ConvTranspose2d 4×4 s2 p1 → C×14×14 → BatchNorm2d → ReLU
 *               → ConvTranspose2d 4×4 s2 p1 → 1×28×28 → tanh
 *          D  x [N, 1, 28, 28] → Conv2d 4×4 s2 p1 → C×14×14 → LeakyReLU 0.2
 *               → Conv2d 4×4 s2 p1 → 2C×7×7 → BatchNorm2d → LeakyReLU 0.2 → Flatten → Linear 1
 *          C = DCGAN_WIDTH = 32 (PyTorch's example has 64 on 64×64 images; 32 keeps an
 *          epoch of 60,000 digits near a minute on two cores)
 *          conv, transposed conv and linear weights N(0, 0.02²), batch-norm scales N(1, 0.02²),
 *          biases 0 (Radford et al. 2015, §4).
 *
 * After each epoch it writes DIR/epoch-NN.png, an 8 × 8 grid of G(z) for a
 * fixed noise batch (G in eval mode), and scores G on `samples` more digits
 * with an MLP digit classifier trained on the real training digits first:
 * the mean confidence (max softmax) and the entropy of the predicted-class
 * histogram in nats (ln 10 ≈ 2.303 is uniform; mode collapse shows as low
 * entropy). The same figures on real test digits are the reference line.
 *
 * Seeded: manualSeed(seed) before the classifier, the networks and the
 * training draws; the fixed and scoring noise come from their own seeded
 * streams. The same seed, flags, backend and thread count give the same grids.
 *
 * Only types are imported at the top (args.ts reads GAN_RECIPES; `fathom
 * --help` must stay instant); the library is imported when training starts.
 */
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';

type Fathom = typeof import('../index.js');

export const GAN_MODELS = ['mlp', 'dcgan'] as const;
export type GanModel = (typeof GAN_MODELS)[number];

export interface GanRecipe {
  epochs: number;
  batchSize: number;
  /** Adam's learning rate for both networks (betas [0.5, 0.999]). */
  lr: number;
  /** Z, the width of the noise vector. */
  latent: number;
  /** Training digits used (of 60,000). */
  train: number;
}

/**
 * Defaults per model; every flag of the same name overrides its part. Measured on the shared 2-core VM
 * (seed 1, all 60,000 digits; see the README's GAN section): one training step of 64 costs 17.6 ms of
 * CPU for the MLP GAN (16 CPU-s an epoch) and 87 ms for the DCGAN (81 CPU-s an epoch). After 10 MLP
 * epochs the judge's confidence on generated digits is 0.825 and their class entropy 2.147 nats (real
 * test digits: 0.963, 2.294); after 3 DCGAN epochs 0.791 and 2.191, with clean strokes where the MLP's
 * digits are speckled.
 */
export const GAN_RECIPES: Record<GanModel, GanRecipe> = {
  mlp: { epochs: 10, batchSize: 64, lr: 2e-4, latent: 64, train: 60000 },
  dcgan: { epochs: 3, batchSize: 64, lr: 2e-4, latent: 64, train: 60000 },
};

/** Digits generated and scored by the classifier after each epoch (and real test digits for the reference). */
export const GAN_SCORED = 1000;
/** The fixed noise batch drawn as the 8 × 8 grid each epoch. */
export const GAN_GRID = 64;

export interface GanOptions {
  model: GanModel;
  epochs: number;
  batchSize: number;
  lr: number;
  latent: number;
  /** The first N training digits. */
  train: number;
  /** The first N test digits (the classifier's test accuracy and the reference line); default all 10,000. */
  test?: number;
  /** Folder of the grids (created if missing). */
  out: string;
  seed: number;
  backend?: 'native' | 'ts';
  threads?: number;
  /** Generated digits scored each epoch (default GAN_SCORED, 1,000; no flag: tests use fewer). */
  scored?: number;
}

/** The two networks and Z. */
export interface GanPair {
  generator: Module;
  discriminator: Module;
  latent: number;
  /** One line describing both. */
  arch: string;
}

/** Channels of the DCGAN's 14×14 layers (G's and D's); the 7×7 ones have twice as many. */
export const DCGAN_WIDTH = 32;

/** Builds G and D of `model` (see the file comment) from the global random stream. */
export function buildGan(f: Fathom, model: GanModel, latent = GAN_RECIPES[model].latent): GanPair {
  const { nn } = f;
  if (model === 'mlp') {
    const generator = new nn.Sequential(
      new nn.Linear(latent, 256), new nn.ReLU(), new nn.Linear(256, 512), new nn.ReLU(), new nn.Linear(512, 784), new nn.Tanh(),
    );
    const discriminator = new nn.Sequential(
      new nn.Linear(784, 512), new nn.LeakyReLU(0.2), new nn.Linear(512, 256), new nn.LeakyReLU(0.2), new nn.Linear(256, 1),
    );
    return { generator, discriminator, latent, arch: `MLP GAN · G ${latent}-256-512-784 relu, tanh · D 784-512-256-1 leakyRelu 0.2` };
  }
  /** [N, C·H·W] → [N, C, H, W] (torch.nn.Unflatten(1, (C, H, W))). */
  class Unflatten extends nn.Module {
    constructor(readonly shape: readonly number[]) {
      super();
    }
    forward(x: Tensor): Tensor {
      return x.reshape([x.shape[0], ...this.shape]);
    }
  }
  const c = DCGAN_WIDTH;
  const generator = new nn.Sequential(
    new nn.Linear(latent, 2 * c * 7 * 7, { bias: false }), new nn.BatchNorm1d(2 * c * 7 * 7), new nn.ReLU(), new Unflatten([2 * c, 7, 7]),
    new nn.ConvTranspose2d(2 * c, c, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(c), new nn.ReLU(),
    new nn.ConvTranspose2d(c, 1, 4, { stride: 2, padding: 1 }), new nn.Tanh(),
  );
  const discriminator = new nn.Sequential(
    new nn.Conv2d(1, c, 4, { stride: 2, padding: 1 }), new nn.LeakyReLU(0.2),
    new nn.Conv2d(c, 2 * c, 4, { stride: 2, padding: 1, bias: false }), new nn.BatchNorm2d(2 * c), new nn.LeakyReLU(0.2),
    new nn.Flatten(), new nn.Linear(2 * c * 7 * 7, 1),
  );
  // Radford et al. 2015, §4: weights N(0, 0.02²); batch-norm scales N(1, 0.02²), shifts 0.
  const normal = (t: Tensor, mean: number): void => { (t.data as Float32Array).set(f.randn(t.shape, { mean, std: 0.02 }).data as Float32Array); };
  for (const net of [generator, discriminator]) {
    for (const [, m] of net.modules()) {
      const layer = m as Module & { weight?: Tensor; bias?: Tensor };
      if (layer.weight === undefined) continue;
      normal(layer.weight, m instanceof nn.BatchNorm1d || m instanceof nn.BatchNorm2d ? 1 : 0);
      if (layer.bias) (layer.bias.data as Float32Array).fill(0);
    }
  }
  return {
    generator, discriminator, latent,
    arch: `DCGAN · G ${latent} → ${2 * c}x7x7 → convT ${c}x14x14 → convT 1x28x28 (batch norm, relu, tanh) · D conv ${c}x14x14 → conv ${2 * c}x7x7 (leakyRelu 0.2, batch norm) → 1`,
  };
}

/** Adam(lr, betas [0.5, 0.999]) on the parameters of one network (DCGAN's optimizer). */
export function ganOptimizer(f: Fathom, net: Module, lr: number): Optimizer {
  return new f.optim.Adam(net.parameters(), { lr, betas: [0.5, 0.999] });
}

export interface DStepResult {
  /** BCE(D(x), 1) + BCE(D(fake), 0), before the update. */
  loss: number;
  /** Mean D(x) = sigmoid(logit) on the real batch, before the update. */
  dReal: number;
  /** Mean D(G(z)) on the fake batch, before the update. */
  dFake: number;
}

const labels = (f: Fathom, n: number, v: 0 | 1): Tensor => f.full([n, 1], v);
const meanSigmoid = (f: Fathom, logits: Tensor): number => f.noGrad(() => f.sigmoid(logits).mean().item());

/**
 * One discriminator step: lossD = BCE(D(real), 1) + BCE(D(fake), 0), Adam on D.
 * `fake` must carry no gradient into G (pass `G(z).detach()`): only D's
 * parameters change, and G's gradients are not touched.
 */
export function discriminatorStep(f: Fathom, d: Module, optD: Optimizer, real: Tensor, fake: Tensor): DStepResult {
  const outReal = d.forward(real);
  const outFake = d.forward(fake);
  const loss = f.losses.binaryCrossEntropy(outReal, labels(f, real.shape[0], 1)).add(f.losses.binaryCrossEntropy(outFake, labels(f, fake.shape[0], 0)));
  optD.zeroGrad();
  loss.backward();
  optD.step();
  return { loss: loss.item(), dReal: meanSigmoid(f, outReal), dFake: meanSigmoid(f, outFake) };
}

/**
 * One generator step with the non-saturating loss lossG = BCE(D(fake), 1)
 * = mean −log D(G(z)) (Goodfellow et al. 2014, §3), Adam on G. D's
 * parameters are frozen during the step (requiresGrad off: no weight
 * gradients are computed and D's weights cannot change; D's batch-norm
 * running statistics do see the batch, as in PyTorch's example).
 * @param fake G(z) recorded on the tape (not detached).
 * @returns lossG before the update.
 */
export function generatorStep(f: Fathom, d: Module, optG: Optimizer, fake: Tensor): number {
  const params = d.parameters();
  const was = params.map((p) => p.requiresGrad);
  d.freeze();
  try {
    const loss = f.losses.binaryCrossEntropy(d.forward(fake), labels(f, fake.shape[0], 1));
    optG.zeroGrad();
    loss.backward();
    optG.step();
    return loss.item();
  } finally {
    params.forEach((p, i) => { p.requiresGrad = was[i]; });
  }
}

export interface GanStepResult extends DStepResult {
  gLoss: number;
}

/** One alternating step: G(z) once, the D step on it detached, then the G step on it (the DCGAN example's order). */
export function ganStep(f: Fathom, pair: GanPair, optD: Optimizer, optG: Optimizer, real: Tensor, z: Tensor): GanStepResult {
  const fake = pair.generator.forward(z);
  const dr = discriminatorStep(f, pair.discriminator, optD, real, fake.detach());
  const gLoss = generatorStep(f, pair.discriminator, optG, fake);
  return { ...dr, gLoss };
}

/** Mean max-softmax confidence and entropy (nats) of the predicted-class histogram. */
export interface Quality {
  confidence: number;
  entropy: number;
  /** Predicted digits per class 0..9. */
  histogram: number[];
}

/** Scores digits `x` [N, 784] in [0, 1] with a classifier giving logits [N, classes]. */
export function quality(f: Fathom, classifier: Module, x: Tensor): Quality {
  const probs = f.noGrad(() => classifier.predict(x).softmax());
  const [n, classes] = probs.shape;
  const p = probs.data as Float32Array;
  const histogram = new Array<number>(classes).fill(0);
  let conf = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++) if (p[i * classes + c] > p[i * classes + best]) best = c;
    conf += p[i * classes + best];
    histogram[best]++;
  }
  return { confidence: conf / n, entropy: histogramEntropy(histogram), histogram };
}

/** −Σ p ln p of the counts' proportions (0 ln 0 = 0), in nats. */
export function histogramEntropy(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  let h = 0;
  for (const c of counts) if (c > 0) h -= (c / total) * Math.log(c / total);
  return h;
}

/** One epoch's figures (a row of the table). */
export interface GanEpoch {
  epoch: number;
  dLoss: number;
  gLoss: number;
  dReal: number;
  dFake: number;
  confidence: number;
  entropy: number;
  /** Training seconds of the epoch (steps only, not the scoring and the PNG), wall clock. */
  seconds: number;
  /** CPU seconds of those steps (process.cpuUsage, all threads): the figure that a loaded machine distorts least. */
  cpuSeconds: number;
  /** Training digits per wall-clock second. */
  samplesPerSecond: number;
  /** The grid written. */
  file: string;
}

export interface GanResult {
  epochs: GanEpoch[];
  /** The classifier's figures on real test digits. */
  reference: Quality;
  classifierAccuracy: number;
  /** The fixed-noise samples of the last epoch, G in eval mode: [64, 1, 28, 28] in [−1, 1]. */
  samples: Tensor;
  pair: GanPair;
}

const f3 = (v: number): string => v.toFixed(3);

/** The markdown table of the epochs, with the real test digits as the last line. */
export function ganTable(rows: readonly GanEpoch[], reference: Quality): string {
  const lines = [
    '| epoch | D loss | G loss | D(x) | D(G(z)) | confidence | class entropy (nats) | samples/s | CPU s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${r.epoch} | ${f3(r.dLoss)} | ${f3(r.gLoss)} | ${f3(r.dReal)} | ${f3(r.dFake)} | ${f3(r.confidence)} | ${f3(r.entropy)} | ${Math.round(r.samplesPerSecond)} | ${r.cpuSeconds.toFixed(1)} |`);
  }
  lines.push(`| real test digits | | | | | ${f3(reference.confidence)} | ${f3(reference.entropy)} | | |`);
  return lines.join('\n');
}

/** The grid file of an epoch: DIR/epoch-01.png (two digits at least). */
export const gridFile = (out: string, epoch: number, join: (a: string, b: string) => string): string => join(out, `epoch-${String(epoch).padStart(2, '0')}.png`);

/** Far from the global stream's positions (blocks of 4 numbers) that training reaches. */
const NOISE_OFFSET = 1n << 48n;

/** Trains the GAN and writes the grids (see the file comment); prints progress and the table. */
export async function trainGan(o: GanOptions): Promise<GanResult> {
  const { join } = await import('node:path');
  const { checkWritable } = await import('../io/atomic.js');
  const { checkPngjs, writePng } = await import('../image/png.js');
  const { imageGrid } = await import('../image/grid.js');
  const { makeFolder } = await import('../models/folder.js');
  // pngjs and the folder are checked before anything is trained.
  await checkPngjs('train');
  try {
    await makeFolder(o.out);
    await checkWritable(gridFile(o.out, 1, join));
  } catch (err) {
    throw new Error(`--out: ${(err as Error).message}; nothing was trained`, { cause: err });
  }

  const f = await import('../index.js');
  if (o.backend !== undefined) f.setBackend(o.backend);
  if (o.threads !== undefined) f.setNumThreads(o.threads);
  const i = f.info();
  console.log(`fathom ${i.version} · backend ${i.backend} · isa ${i.isa} · threads ${i.threads}`);
  const t0 = performance.now();
  const ds = await f.data.mnist({ train: o.train, ...(o.test !== undefined ? { test: o.test } : {}) });
  const n = ds.train.x.shape[0];
  console.log(`MNIST: ${n} training and ${ds.test.x.shape[0]} test digits (${((performance.now() - t0) / 1000).toFixed(1)} s to load)`);
  f.manualSeed(o.seed);

  // The judge: an MLP classifier on the real digits, [0, 1] pixels.
  const c0 = performance.now();
  const classifier = new f.nn.Sequential(new f.nn.Linear(784, 256, { init: 'he' }), new f.nn.ReLU(), new f.nn.Linear(256, 10));
  await classifier.fit(ds.train.x, ds.train.y, { loss: 'crossEntropy', optimizer: new f.optim.Adam(classifier.parameters(), { lr: 1e-3 }), epochs: 3, batchSize: 128, seed: o.seed, verbose: 0 });
  const classifierAccuracy = (await classifier.evaluate(ds.test.x, ds.test.y)).accuracy ?? NaN;
  const scored = o.scored ?? GAN_SCORED;
  const nRef = Math.min(scored, ds.test.x.shape[0]);
  const reference = quality(f, classifier, ds.test.x.slice(0, nRef));
  console.log(`judge: MLP 784-256-10 trained 3 epochs on the training digits: test accuracy ${(classifierAccuracy * 100).toFixed(2)}% (${((performance.now() - c0) / 1000).toFixed(1)} s); ` +
    `on ${nRef} real test digits: confidence ${f3(reference.confidence)}, class entropy ${f3(reference.entropy)} nats`);

  const pair = buildGan(f, o.model, o.latent);
  const { generator: g, discriminator: d } = pair;
  const count = (m: Module): number => m.parameters().reduce((a, t) => a + t.size, 0);
  const optD = ganOptimizer(f, d, o.lr);
  const optG = ganOptimizer(f, g, o.lr);
  const steps = Math.floor(n / o.batchSize);
  console.log(`model: ${pair.arch} (G ${count(g).toLocaleString('en-US')}, D ${count(d).toLocaleString('en-US')} parameters) · Adam lr ${o.lr} betas 0.5, 0.999 · batch ${o.batchSize} · ${steps} steps per epoch · ${o.epochs} epoch${o.epochs === 1 ? '' : 's'}`);

  // Real digits in tanh's range [−1, 1].
  const real = Float32Array.from(ds.train.x.data as Float32Array, (v) => 2 * v - 1);
  const image = o.model === 'dcgan' ? [1, 28, 28] : [784];
  const fixed = f.randn([GAN_GRID, o.latent], { seed: o.seed, offset: NOISE_OFFSET });
  const scoring = f.randn([scored, o.latent], { seed: o.seed, offset: NOISE_OFFSET + BigInt(GAN_GRID * o.latent) });
  const rows: GanEpoch[] = [];
  let samples = fixed;
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    g.train();
    d.train();
    const order = f.rand([n]).data as Float32Array;
    const perm = Array.from({ length: n }, (_, k) => k).sort((a, b) => order[a] - order[b] || a - b);
    let dLoss = 0, gLoss = 0, dReal = 0, dFake = 0;
    const e0 = performance.now();
    const cpu0 = process.cpuUsage();
    const batch = new Float32Array(o.batchSize * 784);
    for (let s = 0; s < steps; s++) {
      for (let k = 0; k < o.batchSize; k++) {
        const row = perm[s * o.batchSize + k];
        batch.set(real.subarray(row * 784, row * 784 + 784), k * 784);
      }
      const x = new f.Tensor(batch.slice(), [o.batchSize, ...image]);
      const z = f.randn([o.batchSize, o.latent]);
      const r = ganStep(f, pair, optD, optG, x, z);
      dLoss += r.loss; gLoss += r.gLoss; dReal += r.dReal; dFake += r.dFake;
      if (!Number.isFinite(r.loss) || !Number.isFinite(r.gLoss)) {
        throw new Error(`--task gan: the losses became non-finite at epoch ${epoch}, step ${s + 1} (D ${r.loss}, G ${r.gLoss}); try a smaller --lr`);
      }
      // Let the event loop breathe (a server, progress output); on a terminal, show the step.
      if (s % 50 === 49) {
        if (process.stderr.isTTY) process.stderr.write(`\repoch ${epoch}/${o.epochs} · step ${s + 1}/${steps} · D loss ${f3(dLoss / (s + 1))} · G loss ${f3(gLoss / (s + 1))}`);
        await new Promise((res) => setImmediate(res));
      }
    }
    const seconds = (performance.now() - e0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    if (process.stderr.isTTY && steps >= 50) process.stderr.write('\r\x1b[K');
    g.eval();
    samples = f.noGrad(() => g.forward(fixed)).reshape([GAN_GRID, 1, 28, 28]);
    const file = gridFile(o.out, epoch, join);
    await writePng(file, imageGrid(samples, { cols: 8, gutter: 2 }));
    const generated = f.noGrad(() => {
      const parts: Tensor[] = [];
      for (let k = 0; k < scored; k += 250) parts.push(g.forward(scoring.slice(k, Math.min(k + 250, scored))).reshape([-1, 784]));
      return f.concat(parts, 0).add(1).mul(0.5);
    });
    const q = quality(f, classifier, generated);
    const row: GanEpoch = {
      epoch, dLoss: dLoss / steps, gLoss: gLoss / steps, dReal: dReal / steps, dFake: dFake / steps,
      confidence: q.confidence, entropy: q.entropy, seconds, cpuSeconds, samplesPerSecond: (steps * o.batchSize) / seconds, file,
    };
    rows.push(row);
    console.log(`epoch ${epoch}/${o.epochs}: D loss ${f3(row.dLoss)} · G loss ${f3(row.gLoss)} · D(x) ${f3(row.dReal)} · D(G(z)) ${f3(row.dFake)} · ` +
      `confidence ${f3(q.confidence)} · class entropy ${f3(q.entropy)} nats [${q.histogram.join(' ')}] · ${seconds.toFixed(1)} s (${cpuSeconds.toFixed(1)} s of CPU), ${Math.round(row.samplesPerSecond)} samples/s · ${file}`);
  }
  console.log('');
  console.log(ganTable(rows, reference));
  return { epochs: rows, reference, classifierAccuracy, samples, pair };
}
