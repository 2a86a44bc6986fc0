/**
 * Greedy layer-wise pre-training of a stack of encoder stages (Hinton,
 * Osindero & Teh 2006 for deep belief networks; Bengio, Lamblin, Popovici &
 * Larochelle 2007, "Greedy layer-wise training of deep networks", for
 * autoencoders; Vincent et al. 2008 for the denoising variant).
 *
 * Stage k is trained, unsupervised, on the codes of stages 0..k-1 after
 * their own training (stage 0 on x), and is not changed again while the
 * stages above it train (its codes are computed once, in eval mode):
 * fine-tuning the whole stack with a classifier head is the caller's fit().
 *
 *   method 'autoencoder'  the stage + a new decoder (or tied weights) learns to
 *                         reconstruct its clean input from an optionally
 *                         corrupted one (masking or Gaussian noise)
 *   method 'rbm'          an nn.RBM is trained by CD-k / PCD on the stage's
 *                         input, and its weight and hidden bias are copied into
 *                         the stage's Linear (sigmoid stages only)
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { rand } from '../ops/index.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Module } from '../layers/module.js';
import { Sequential } from '../layers/sequential.js';
import { RBM } from '../layers/rbm.js';
import { Linear } from '../layers/linear.js';
import { checkOptions, show } from '../layers/options.js';
import { OPTIMIZERS, closest, type OptimizerName } from '../models/compile.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { ProgressStream } from '../models/progress.js';
import { STAGE_ACTIVATIONS, codesOf, readStages, type Stage, type StageActivation } from './stages.js';
import { StageAutoencoder, measureAutoencoder, trainAutoencoderStage, type Corruption, type ReconstructionLoss } from './autoencoder.js';
import { measureRbm, trainRbmStage } from './rbm.js';

export type { Corruption, ReconstructionLoss, StageActivation };
export type PretrainMethod = 'autoencoder' | 'rbm';

export interface LayerwiseOptions {
  /** 'autoencoder' (default) or 'rbm' (a deep belief network's initialisation; sigmoid stages only). */
  method?: PretrainMethod;
  /** The activation after each bare nn.Linear stage: 'sigmoid' (default), 'relu' or 'tanh'. Refused when every stage is an nn.Sequential. */
  activation?: StageActivation;
  /** Epochs of each stage (default 10). */
  epochs?: number;
  /** Rows per step (default 64). */
  batchSize?: number;
  /**
   * Learning rate. autoencoder: the named optimizer's (default: that optimizer's
   * own default, 1e-3 for 'adam'); refused with an optimizer function, which
   * sets its own. rbm: the CD step size (default 0.1, Hinton's guide for binary units).
   */
  lr?: number;
  /** autoencoder only: an optimizer name (default 'adam') or (params) => Optimizer, called once per stage. */
  optimizer?: OptimizerName | ((params: Tensor[]) => Optimizer);
  /** Seed of every random choice: decoder and RBM initialisation, shuffles, corruption (default: drawn from the global stream, see manualSeed). */
  seed?: number;
  /** 0 silent, 1 (default) one line per stage and epoch, and one per stage with its figures. */
  verbose?: 0 | 1;
  /** Where the lines of verbose 1 go (default process.stderr). */
  progress?: ProgressStream;
  /** Rows of each stage's input the before/after figures are measured on: the first min(N, evalRows) (default 10,000). */
  evalRows?: number;
  /**
   * autoencoder only: the reconstruction loss, 'binaryCrossEntropy' (decoder
   * output σ(z), the BCE of the logits z) or 'mse' (decoder output z), or a
   * list with one per stage. Default: 'binaryCrossEntropy' for a stage whose
   * input lies in [0, 1] (pixels, sigmoid codes), else 'mse' (ReLU, tanh codes).
   */
  loss?: ReconstructionLoss | ReconstructionLoss[];
  /** autoencoder only: the decoder reuses the stage's weight transposed, with its own bias (default false: a new nn.Linear). */
  tiedWeights?: boolean;
  /** autoencoder only: denoising corruption of each stage's input in training, { type: 'masking', p } or { type: 'gaussian', std } (default none). */
  corruption?: Corruption;
  /** rbm only: Gibbs steps of CD-k (default 1). */
  k?: number;
  /** rbm only: persistent CD (Tieleman 2008; default false). */
  persistent?: boolean;
  /** rbm only: a fixed momentum in [0, 1) (default 0.5 for the first epoch, then 0.9, as Hinton's guide). */
  momentum?: number;
  /** rbm only: L2 weight decay on W (default 0.0002, the value of Hinton & Salakhutdinov's code; 0 turns it off). */
  weightDecay?: number;
}

/** What pre-training did to one stage. Figures are measured in eval mode on clean inputs (the first evalRows rows). */
export interface LayerReport {
  /** Index of the stage in `layers`. */
  layer: number;
  method: PretrainMethod;
  inFeatures: number;
  outFeatures: number;
  /**
   * The measure of before/after: the autoencoder's training loss, or for the
   * rbm its mean-field reconstruction σ(σ(x Wᵀ + c) W + b) as binary cross-entropy.
   */
  loss: ReconstructionLoss;
  /** The reconstruction loss before training (the stage as given and a new decoder; a new RBM). */
  before: number;
  /** The reconstruction loss after training. */
  after: number;
  /** Mean squared error of the reconstruction (σ(z) for BCE, z for mse; the rbm's mean-field σ(z)) before and after. */
  mseBefore: number;
  mseAfter: number;
  /** Per epoch: the mean training loss (autoencoder, on corrupted inputs if any) or the mean CD reconstruction error (rbm, one Gibbs step). */
  history: number[];
  /** Seconds of training (the measurements and the codes excluded). */
  seconds: number;
  /** The autoencoder the stage was trained in (its decoder is `decoder`, or the tied weight), or undefined. */
  autoencoder?: StageAutoencoder;
  /** The trained RBM (its visible bias included), or undefined. */
  rbm?: RBM;
}

export interface LayerwiseResult {
  /** The stages, trained in place (the same objects as `layers`). */
  layers: Module[];
  /** The stages stacked, each bare Linear followed by its activation: put a head on it and fine-tune, `new nn.Sequential(encoder, new nn.Linear(H, C))`. */
  encoder: Sequential;
  /** One per stage, bottom first. */
  reports: LayerReport[];
  /** Seconds in all (training, codes and figures). */
  seconds: number;
}

const OP = 'pretrain.layerwise';

const SPEC = {
  method: 'string', activation: 'string', epochs: 'number', batchSize: 'number', lr: 'number', optimizer: ['string', 'function'],
  seed: 'number', verbose: 'number', progress: 'object', evalRows: 'number', loss: ['string', 'array'], tiedWeights: 'boolean',
  corruption: 'object', k: 'number', persistent: 'boolean', momentum: 'number', weightDecay: 'number',
} as const;
const AUTOENCODER_ONLY = ['optimizer', 'loss', 'tiedWeights', 'corruption'] as const;
const RBM_ONLY = ['k', 'persistent', 'momentum', 'weightDecay'] as const;
const LOSSES: readonly ReconstructionLoss[] = ['binaryCrossEntropy', 'mse'];

function posInt(name: string, v: unknown, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.${OP}: options.${name} must be a positive integer, got ${show(v)}`);
  return v;
}

function checkCorruption(c: unknown): Corruption | undefined {
  if (c === undefined) return undefined;
  const want = `{ type: 'masking', p } with 0 <= p < 1 or { type: 'gaussian', std } with std >= 0`;
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new Error(`fathom.${OP}: options.corruption must be ${want}, got ${show(c)}`);
  const o = c as Record<string, unknown>;
  if (o.type === 'masking') {
    const extra = Object.keys(o).filter((k) => k !== 'type' && k !== 'p');
    if (extra.length || typeof o.p !== 'number' || !(o.p >= 0 && o.p < 1)) {
      throw new Error(`fathom.${OP}: options.corruption must be ${want}, got { type: 'masking'${Object.keys(o).filter((k) => k !== 'type').map((k) => `, ${k}: ${show(o[k])}`).join('')} }`);
    }
    return { type: 'masking', p: o.p };
  }
  if (o.type === 'gaussian') {
    const extra = Object.keys(o).filter((k) => k !== 'type' && k !== 'std');
    if (extra.length || typeof o.std !== 'number' || !(o.std >= 0 && o.std <= 1e30)) {
      throw new Error(`fathom.${OP}: options.corruption must be ${want}, got { type: 'gaussian'${Object.keys(o).filter((k) => k !== 'type').map((k) => `, ${k}: ${show(o[k])}`).join('')} }`);
    }
    return { type: 'gaussian', std: o.std };
  }
  throw new Error(`fathom.${OP}: options.corruption.type must be 'masking' or 'gaussian', got ${show(o.type)}`);
}

interface Checked {
  method: PretrainMethod;
  stages: Stage[];
  epochs: number;
  batchSize: number;
  lr: number | undefined;
  optimizer: OptimizerName | ((params: Tensor[]) => Optimizer);
  seed: number;
  evalRows: number;
  losses: (ReconstructionLoss | undefined)[];
  tied: boolean;
  corruption: Corruption | undefined;
  k: number;
  persistent: boolean;
  momentum: number | undefined;
  weightDecay: number;
  out: ProgressStream | null;
}

function checkAll(layers: unknown, x: unknown, options: LayerwiseOptions | undefined): Checked {
  const o = checkOptions<LayerwiseOptions>(OP, options, SPEC);
  const method = o.method ?? 'autoencoder';
  if (method !== 'autoencoder' && method !== 'rbm') throw new Error(`fathom.${OP}: options.method must be 'autoencoder' or 'rbm', got ${show(method)}${closest(method, ['autoencoder', 'rbm'])}`);
  for (const k of method === 'rbm' ? AUTOENCODER_ONLY : RBM_ONLY) {
    if (o[k] !== undefined) throw new Error(`fathom.${OP}: options.${k} applies to method '${method === 'rbm' ? 'autoencoder' : 'rbm'}' only, got method '${method}'`);
  }
  if (o.activation !== undefined && !STAGE_ACTIVATIONS.includes(o.activation)) {
    throw new Error(`fathom.${OP}: options.activation must be one of ${STAGE_ACTIVATIONS.map((a) => `'${a}'`).join(', ')}, got ${show(o.activation)}${closest(o.activation, STAGE_ACTIVATIONS)}`);
  }
  const stages = readStages(OP, layers, o.activation);

  if (!(x instanceof Tensor)) throw new Error(`fathom.${OP}: x must be a float32 Tensor [N, ${stages[0].linear.inFeatures}], got ${describe(x)}`);
  checkStorage(OP, 'x', x); // a buffer transferred away is refused here, naming layerwise, not deep inside a stage
  stages.forEach((st, k) => {
    // A frozen stage would be silently left as it is by the autoencoder's fit (only its decoder would train),
    // and overwritten by the rbm's copy: neither is what freezing means, so it is refused.
    if (st.layer.parameters().some((q) => !q.requiresGrad)) {
      throw new Error(
        `fathom.${OP}: layers[${k}] (${st.text}) has frozen parameters (trainable = false), which pre-training would ${method === 'rbm' ? 'overwrite' : 'leave untrained'}; ` +
          `unfreeze it, or pre-train only the stages above it on its codes: pretrain.layerwise(upper, predict(lower, x))`,
      );
    }
  });
  if (x.dtype !== 'float32' || x.rank !== 2 || x.shape[1] !== stages[0].linear.inFeatures || x.shape[0] < 1) {
    throw new Error(`fathom.${OP}: x must be a float32 Tensor [N, ${stages[0].linear.inFeatures}] with N >= 1 (the first stage's inFeatures), got ${x.dtype} ${fmt(x.shape)}`);
  }
  const xd = x.f32();
  for (let i = 0; i < xd.length; i++) {
    if (!Number.isFinite(xd[i])) throw new Error(`fathom.${OP}: x must hold finite values, got ${xd[i]} at [${Math.floor(i / x.shape[1])}, ${i % x.shape[1]}]`);
    if (method === 'rbm' && !(xd[i] >= 0 && xd[i] <= 1)) {
      throw new Error(`fathom.${OP}: method 'rbm' needs x in [0, 1] (binary data or probabilities, as a Bernoulli RBM's visible units), got ${xd[i]} at [${Math.floor(i / x.shape[1])}, ${i % x.shape[1]}]`);
    }
  }
  if (method === 'rbm') {
    stages.forEach((s, k) => {
      if (!s.sigmoid) {
        throw new Error(`fathom.${OP}: method 'rbm' needs sigmoid stages (the RBM's hidden units are σ(x Wᵀ + c), and the next RBM needs codes in [0, 1]), but layers[${k}] is ${s.text}; use activation 'sigmoid' or method 'autoencoder'`);
      }
      if (s.linear.bias === null) throw new Error(`fathom.${OP}: method 'rbm' copies the RBM's hidden bias into the Linear's bias, but layers[${k}] has bias: false`);
    });
  }

  const epochs = posInt('epochs', o.epochs, 10);
  const batchSize = posInt('batchSize', o.batchSize, 64);
  const evalRows = posInt('evalRows', o.evalRows, 10_000);
  if (o.lr !== undefined && !(typeof o.lr === 'number' && Number.isFinite(o.lr) && o.lr > 0)) throw new Error(`fathom.${OP}: options.lr must be a finite number > 0, got ${show(o.lr)}`);
  if (o.lr !== undefined && typeof o.optimizer === 'function') throw new Error(`fathom.${OP}: options.lr applies to a named optimizer; the optimizer function sets its own rate`);
  const optimizer = o.optimizer ?? 'adam';
  if (typeof optimizer === 'string' && !Object.hasOwn(OPTIMIZERS, optimizer)) {
    throw new Error(`fathom.${OP}: options.optimizer must be one of ${Object.keys(OPTIMIZERS).map((k) => `'${k}'`).join(', ')} or (params) => Optimizer, got ${show(optimizer)}${closest(optimizer, Object.keys(OPTIMIZERS))}`);
  }
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0)) throw new Error(`fathom.${OP}: options.seed must be an integer >= 0, got ${show(o.seed)}`);
  if (o.verbose !== undefined && o.verbose !== 0 && o.verbose !== 1) throw new Error(`fathom.${OP}: options.verbose must be 0 or 1, got ${show(o.verbose)}`);
  if (o.progress !== undefined && typeof o.progress.write !== 'function') throw new Error(`fathom.${OP}: options.progress must be a stream with a write(text) method, got ${show(o.progress)}`);

  let losses: (ReconstructionLoss | undefined)[] = stages.map(() => undefined);
  if (o.loss !== undefined) {
    const list = Array.isArray(o.loss) ? o.loss : stages.map(() => o.loss as ReconstructionLoss);
    if (list.length !== stages.length) throw new Error(`fathom.${OP}: options.loss must be one loss or a list of ${stages.length} (one per stage), got a list of ${list.length}`);
    list.forEach((l, k) => {
      if (!LOSSES.includes(l)) throw new Error(`fathom.${OP}: options.loss${Array.isArray(o.loss) ? `[${k}]` : ''} must be 'binaryCrossEntropy' or 'mse', got ${show(l)}${closest(l, LOSSES)}`);
    });
    losses = list;
  }
  const k = posInt('k', o.k, 1);
  if (o.momentum !== undefined && !(Number.isFinite(o.momentum) && o.momentum >= 0 && o.momentum < 1)) throw new Error(`fathom.${OP}: options.momentum must be a number in [0, 1), got ${show(o.momentum)}`);
  if (o.weightDecay !== undefined && !(Number.isFinite(o.weightDecay) && o.weightDecay >= 0)) throw new Error(`fathom.${OP}: options.weightDecay must be a finite number >= 0, got ${show(o.weightDecay)}`);
  return {
    method, stages, epochs, batchSize, lr: o.lr, optimizer,
    // Without a seed: one draw from the global stream, so manualSeed makes the run reproducible.
    seed: o.seed ?? Math.floor(rand([1]).data[0] * 4294967296),
    evalRows, losses, tied: o.tiedWeights ?? false, corruption: checkCorruption(o.corruption),
    k, persistent: o.persistent ?? false, momentum: o.momentum, weightDecay: o.weightDecay ?? 2e-4,
    out: o.verbose === 0 ? null : o.progress ?? process.stderr,
  };
}

/** A stage's own seed, derived from the run's (a 32-bit integer). */
function stageSeed(seed: number, k: number): number {
  return (Math.imul((seed % 4294967296) ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(k + 1, 0xc2b2ae35)) >>> 0;
}

function inUnitRange(x: Tensor): boolean {
  const d = x.f32();
  for (let i = 0; i < d.length; i++) if (!(d[i] >= 0 && d[i] <= 1)) return false;
  return true;
}

const fig = (v: number): string => v.toPrecision(4);

/**
 * Greedy layer-wise pre-training: trains layers[0] on x, then layers[1] on
 * the codes of layers[0], and so on, each without labels.
 *
 * @param layers the encoder stages, bottom first: each an nn.Linear (followed
 *   by options.activation, default sigmoid) or an nn.Sequential whose first
 *   layer is an nn.Linear (its other layers, e.g. an activation, complete the
 *   stage). layers[k].inFeatures must be layers[k-1].outFeatures. Trained in place.
 * @param x unlabelled rows [N, D], float32, finite (rbm: in [0, 1]); D is layers[0]'s inFeatures.
 * @param options see LayerwiseOptions (method, epochs per stage, batchSize, lr, ...).
 * @returns the stages, the stacked `encoder`, and a report per stage with its
 *   reconstruction figures before and after (see LayerReport).
 * @throws (rejects) `fathom.pretrain.layerwise: ...` for layers that are not
 *   such stages or do not chain, an x of the wrong shape or dtype, non-finite
 *   values, an unknown option or one of the other method, a value out of
 *   range; method 'rbm' also for a non-sigmoid stage, a Linear without bias,
 *   or x outside [0, 1]. Everything is checked before any stage trains.
 *   A stage whose codes are not finite (a diverging rate) stops the run with an error naming it.
 */
export async function layerwise(layers: Module[], x: Tensor, options?: LayerwiseOptions): Promise<LayerwiseResult> {
  const c = checkAll(layers, x, options);
  const t0 = performance.now();
  const reports: LayerReport[] = [];
  let input = x;
  const L = c.stages.length;
  for (let k = 0; k < L; k++) {
    const stage = c.stages[k];
    const seed = stageSeed(c.seed, k);
    const { inFeatures, outFeatures } = stage.linear;
    const probe = input.shape[0] > c.evalRows ? input.slice(0, c.evalRows, 0) : input;
    const head = `pretrain ${c.method} layer ${k + 1}/${L} (${stage.text})`;
    const onEpoch = (epoch: number, loss: number, secs: number): void => {
      c.out?.write(`${head}: epoch ${epoch + 1}/${c.epochs} · ${c.method === 'rbm' ? 'CD reconstruction error' : 'loss'} ${fig(loss)} · ${secs.toFixed(1)} s\n`);
    };
    let report: LayerReport;
    const wasTraining = stage.encoder.training;
    if (c.method === 'autoencoder') {
      const loss = c.losses[k] ?? (inUnitRange(input) ? 'binaryCrossEntropy' : 'mse');
      if (loss === 'binaryCrossEntropy' && !inUnitRange(input)) {
        throw new Error(`fathom.${OP}: the binaryCrossEntropy reconstruction of layers[${k}] needs its input in [0, 1], but ${k === 0 ? 'x' : `the codes of layers[${k - 1}] (${c.stages[k - 1].text})`} leave it; use loss 'mse' for this stage`);
      }
      const ae = new StageAutoencoder(stage, c.tied, c.corruption, seed);
      const before = await measureAutoencoder(ae, probe, loss);
      const s0 = performance.now();
      const history = await trainAutoencoderStage(ae, input, {
        loss, optimizer: c.optimizer, lr: c.lr, epochs: c.epochs, batchSize: c.batchSize, seed, onEpoch,
      });
      const seconds = (performance.now() - s0) / 1000;
      const after = await measureAutoencoder(ae, probe, loss);
      report = {
        layer: k, method: 'autoencoder', inFeatures, outFeatures, loss, before: before.loss, after: after.loss,
        mseBefore: before.mse, mseAfter: after.mse, history, seconds, autoencoder: ae,
      };
      // fit() leaves the autoencoder (and so the stage) in its own mode; give the stage back its own.
      stage.encoder.train(wasTraining);
    } else {
      const rbm = new RBM(inFeatures, outFeatures, { seed });
      const before = await measureRbm(rbm, probe);
      const s0 = performance.now();
      const history = await trainRbmStage(stage, rbm, input, {
        lr: c.lr ?? 0.1, k: c.k, persistent: c.persistent, momentum: c.momentum, weightDecay: c.weightDecay,
        epochs: c.epochs, batchSize: c.batchSize, seed, onEpoch,
      });
      const seconds = (performance.now() - s0) / 1000;
      const after = await measureRbm(rbm, probe);
      report = {
        layer: k, method: 'rbm', inFeatures, outFeatures, loss: 'binaryCrossEntropy', before: before.loss, after: after.loss,
        mseBefore: before.mse, mseAfter: after.mse, history, seconds, rbm,
      };
    }
    reports.push(report);
    c.out?.write(`${head}: reconstruction ${report.loss} ${fig(report.before)} → ${fig(report.after)} (MSE ${fig(report.mseBefore)} → ${fig(report.mseAfter)}) in ${report.seconds.toFixed(1)} s\n`);
    if (k + 1 < L) {
      // The next stage reads this one's codes, computed once after its training (eval mode, no tape).
      const codes = await codesOf(stage.encoder, input); // in chunks, yielding between them
      if (codes.rank !== 2 || codes.shape[1] !== c.stages[k + 1].linear.inFeatures) {
        throw new Error(`fathom.${OP}: layers[${k}] (${stage.text}) gives codes ${fmt(codes.shape)} but layers[${k + 1}] takes [N, ${c.stages[k + 1].linear.inFeatures}]`);
      }
      const cd = codes.f32();
      for (let i = 0; i < cd.length; i++) {
        if (!Number.isFinite(cd[i])) throw new Error(`fathom.${OP}: the codes of layers[${k}] (${stage.text}) hold ${cd[i]} after its pre-training; lower options.lr`);
      }
      input = codes;
    }
  }
  const encoder = new Sequential(...c.stages.flatMap((s) => (s.layer instanceof Linear ? (s.encoder as Sequential).layers : [s.layer])));
  return { layers: c.stages.map((s) => s.layer), encoder, reports, seconds: (performance.now() - t0) / 1000 };
}
