/**
 * One stage of a deep belief network's greedy initialisation (Hinton,
 * Osindero & Teh 2006, "A fast learning algorithm for deep belief nets";
 * Bengio et al. 2007): an nn.RBM(D, H) is trained by contrastive divergence
 * (CD-k, or persistent CD) on the stage's input x [N, D] (values in [0, 1]),
 * then its weight [H, D] and hidden bias [H] are copied into the stage's
 * Linear, so the stage computes σ(x Wᵀ + c) = p(h = 1 | x), the RBM's
 * hidden probabilities (the codes the next RBM is trained on). The visible
 * bias has no place in the encoder and stays in the RBM.
 *
 * Momentum follows Hinton's practical guide (UTML TR 2010-003, §9): 0.5 for
 * the first epoch, then 0.9, unless a fixed momentum is given.
 */
import { Tensor } from '../tensor/tensor.js';
import { add, matmul, mean, sigmoid, square, sub } from '../ops/index.js';
import { noGrad } from '../autograd/tape.js';
import { RBM } from '../layers/rbm.js';
import { binaryCrossEntropy } from '../losses/index.js';
import { MEASURE_BATCH, tick, type Stage } from './stages.js';
import { shuffler } from '../data/random.js';

export interface RbmStageOptions {
  lr: number;
  k: number;
  persistent: boolean;
  /** A fixed momentum, or undefined for 0.5 in the first epoch and 0.9 after. */
  momentum: number | undefined;
  weightDecay: number;
  epochs: number;
  batchSize: number;
  seed: number;
  onEpoch: (epoch: number, reconstructionError: number, seconds: number) => void;
}


function gatherRows(x: Tensor, idx: Int32Array, start: number, end: number): Tensor {
  const D = x.shape[1];
  const src = x.f32();
  const out = new Float32Array((end - start) * D);
  for (let i = start; i < end; i++) out.set(src.subarray(idx[i] * D, (idx[i] + 1) * D), (i - start) * D);
  return new Tensor(out, [end - start, D]);
}


/**
 * The mean-field reconstruction figures of an RBM on rows x: z = σ(x Wᵀ + c) W + b,
 * loss = binary cross-entropy of the logits z against x, mse = mean (σ(z) − x)².
 */
export async function measureRbm(rbm: RBM, x: Tensor, batch = MEASURE_BATCH): Promise<{ loss: number; mse: number }> {
  let l = 0, e = 0;
  const n = x.shape[0];
  for (let s = 0; s < n; s += batch) {
    const xb = x.slice(s, Math.min(n, s + batch), 0);
    noGrad(() => {
      const z = add(matmul(rbm.hiddenProbs(xb), rbm.weight), rbm.visibleBias);
      l += binaryCrossEntropy(z, xb).item() * xb.shape[0];
      e += mean(square(sub(sigmoid(z), xb))).item() * xb.shape[0];
    });
    await tick(); // the caller's event loop runs between chunks
  }
  return { loss: l / n, mse: e / n };
}

/**
 * Trains `rbm` on x for o.epochs epochs of shuffled batches (with persistent
 * CD a last, smaller batch is skipped: the chains need a fixed batch size),
 * yielding to the event loop after every batch, then copies its weight and
 * hidden bias into the stage's Linear.
 * @returns the mean CD reconstruction error of each epoch.
 */
export async function trainRbmStage(stage: Stage, rbm: RBM, x: Tensor, o: RbmStageOptions): Promise<number[]> {
  const n = x.shape[0];
  const pick = shuffler(o.seed);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  const history: number[] = [];
  const last = o.persistent && n > o.batchSize ? n - (n % o.batchSize) : n;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const t0 = performance.now();
      for (let i = n - 1; i > 0; i--) {
        const j = pick(i + 1);
        const t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
      }
      const momentum = o.momentum ?? (epoch === 0 ? 0.5 : 0.9);
      let sum = 0, rows = 0;
      for (let s = 0; s < last; s += o.batchSize) {
        const e = Math.min(last, s + o.batchSize);
        const r = rbm.cdStep(gatherRows(x, idx, s, e), { lr: o.lr, k: o.k, persistent: o.persistent, momentum, weightDecay: o.weightDecay });
        sum += r.reconstructionError * (e - s);
        rows += e - s;
        await tick();
      }
      history.push(sum / rows);
      o.onEpoch(epoch, sum / rows, (performance.now() - t0) / 1000);
    }
  } finally {
    // The chain [N, D] is training state only; the caller may keep the RBM.
    rbm.resetChain();
  }
  const { linear } = stage;
  (linear.weight.data as Float32Array).set(rbm.weight.f32());
  (linear.bias!.data as Float32Array).set(rbm.hiddenBias.f32());
  return history;
}
