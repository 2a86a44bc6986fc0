/**
 * One stage of greedy layer-wise pre-training as an autoencoder (Bengio et
 * al. 2007, "Greedy layer-wise training of deep networks"; denoising:
 * Vincent et al. 2008, "Extracting and composing robust features with
 * denoising autoencoders"):
 *
 *   x [N, D] → corrupt (training only) → code h = stage(x̃) [N, H]
 *            → decoder: z = h Wdᵀ + bd, or tied z = h W + bd (W the stage's Linear weight [H, D])
 *   loss 'binaryCrossEntropy': the reconstruction is σ(z), trained with BCE on logits z
 *        (the input must lie in [0, 1]: pixels, sigmoid codes)
 *   loss 'mse':                the reconstruction is z itself, trained with the squared error
 *
 * The target is always the clean x. Trained with fit(), so the loop,
 * shuffling, optimizer names and the event-loop yield are fit's.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, matmul, mean, mul, rand, randn, sigmoid, square, sub, zeros } from '../ops/index.js';
import { noGrad } from '../autograd/tape.js';
import { Module, parameter } from '../layers/module.js';
import { Linear } from '../layers/linear.js';
import { binaryCrossEntropy } from '../losses/index.js';
import { fit } from '../models/training.js';
import { Optimizer as OptimizerBase, type Optimizer } from '../optimizers/optimizer.js';
import { describeValue } from '../tensor/shape.js';
import type { OptimizerName } from '../models/compile.js';
import { MEASURE_BATCH, tick, type Stage } from './stages.js';

/** Corruption of a denoising autoencoder's input, in training only (Vincent et al. 2008). */
export type Corruption =
  /** Each element set to 0 with probability p (masking noise; no rescaling). */
  | { type: 'masking'; p: number }
  /** x + N(0, std²) per element (additive isotropic Gaussian noise). */
  | { type: 'gaussian'; std: number };

export type ReconstructionLoss = 'binaryCrossEntropy' | 'mse';

/** The stage's encoder with a decoder on top; forward gives the decoder's output z (logits for BCE). */
export class StageAutoencoder extends Module {
  readonly encoder: Module;
  readonly decoder: Linear | null;
  readonly decoderBias: Tensor | null;
  /** The encoder Linear's weight [H, D] for the tied decoder (a private field: not registered twice). */
  readonly #tiedWeight: Tensor;
  private offset = 0n;

  constructor(
    stage: Stage,
    readonly tied: boolean,
    private readonly corruption: Corruption | undefined,
    private readonly seed: number,
  ) {
    super();
    const { inFeatures, outFeatures } = stage.linear;
    this.encoder = stage.encoder;
    this.#tiedWeight = stage.linear.weight;
    this.decoder = tied ? null : new Linear(outFeatures, inFeatures, { seed });
    this.decoderBias = tied ? parameter(zeros([inFeatures])) : null;
  }

  /** x [N, D] → z [N, D]; the input is corrupted in training mode only. */
  forward(x: Tensor): Tensor {
    const h = this.encoder.forward(this.training ? this.corrupt(x) : x);
    return this.decode(h);
  }

  /** h [N, H] → z [N, D]. */
  decode(h: Tensor): Tensor {
    return this.tied ? add(matmul(h, this.#tiedWeight), this.decoderBias!) : this.decoder!.forward(h);
  }

  private draws(shape: readonly number[]): { seed: number; offset: bigint } {
    const at = { seed: this.seed, offset: this.offset };
    let size = 1;
    for (const d of shape) size *= d;
    this.offset += BigInt(Math.ceil(size / 4));
    return at;
  }

  private corrupt(x: Tensor): Tensor {
    const c = this.corruption;
    if (!c) return x;
    if (c.type === 'masking') {
      if (c.p === 0) return x;
      const u = rand(x.shape, this.draws(x.shape)).f32();
      const keep = new Float32Array(u.length);
      for (let i = 0; i < u.length; i++) keep[i] = u[i] < c.p ? 0 : 1;
      return mul(x, new Tensor(keep, [...x.shape]));
    }
    if (c.std === 0) return x;
    return add(x, randn(x.shape, { std: c.std, ...this.draws(x.shape) }));
  }
}

export interface AutoencoderStageOptions {
  loss: ReconstructionLoss;
  optimizer: OptimizerName | ((params: Tensor[]) => Optimizer);
  lr: number | undefined;
  epochs: number;
  batchSize: number;
  seed: number;
  /** Called after each epoch with its mean training loss (corrupted inputs). */
  onEpoch: (epoch: number, loss: number, seconds: number) => void;
}

/** The reconstruction figures of a trained or untrained stage autoencoder on rows x (eval mode, clean input). */
export async function measureAutoencoder(ae: StageAutoencoder, x: Tensor, loss: ReconstructionLoss, batch = MEASURE_BATCH): Promise<{ loss: number; mse: number }> {
  const was = ae.training;
  ae.eval();
  try {
    let l = 0, e = 0;
    const n = x.shape[0];
    for (let s = 0; s < n; s += batch) {
      const xb = x.slice(s, Math.min(n, s + batch), 0);
      noGrad(() => {
        const z = ae.forward(xb);
        const r = loss === 'binaryCrossEntropy' ? sigmoid(z) : z;
        const se = mean(square(sub(r, xb))).item();
        e += se * xb.shape[0];
        l += (loss === 'binaryCrossEntropy' ? binaryCrossEntropy(z, xb).item() : se) * xb.shape[0];
      });
      await tick(); // the caller's event loop runs between chunks
    }
    return { loss: l / n, mse: e / n };
  } finally {
    ae.train(was);
  }
}

/**
 * Trains the autoencoder (the stage and its decoder) to reconstruct x [N, D]
 * with fit(), shuffled by o.seed, without accuracy or progress output.
 * @returns the mean training loss of each epoch (on corrupted inputs when corruption is set).
 */
export async function trainAutoencoderStage(ae: StageAutoencoder, x: Tensor, o: AutoencoderStageOptions): Promise<number[]> {
  const optimizer = typeof o.optimizer === 'function' ? o.optimizer(ae.parameters()) : o.optimizer;
  if (typeof o.optimizer === 'function' && !(optimizer instanceof OptimizerBase)) {
    throw new Error(`fathom.pretrain.layerwise: options.optimizer, a function, must return an Optimizer for the parameters it is given (e.g. (p) => new optim.SGD(p, { lr: 0.1 })), got ${describeValue(optimizer)}`);
  }
  let t0 = performance.now();
  const history = await fit(ae, x, x, {
    loss: o.loss, optimizer, ...(o.lr !== undefined && typeof o.optimizer !== 'function' ? { lr: o.lr } : {}),
    epochs: o.epochs, batchSize: o.batchSize, seed: o.seed, accuracy: false, verbose: 0,
    callbacks: {
      onEpochEnd: (epoch, logs) => {
        const now = performance.now();
        o.onEpoch(epoch, logs.loss, (now - t0) / 1000);
        t0 = now;
      },
    },
  });
  return history.history.loss;
}
