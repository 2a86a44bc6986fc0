/**
 * Bernoulli–Bernoulli restricted Boltzmann machine trained with contrastive
 * divergence (CD-k, Hinton 2002, "Training products of experts by minimizing
 * contrastive divergence") and persistent CD (PCD, Tieleman 2008, "Training
 * restricted Boltzmann machines using approximations to the likelihood
 * gradient"), following Hinton's "A Practical Guide to Training Restricted
 * Boltzmann Machines" (UTML TR 2010-003) for the initialisation and the
 * statistics used.
 *
 * Energy: E(v, h) = -vᵀb - hᵀc - hᵀWv with W [H, V], b = visible_bias [V],
 * c = hidden_bias [H]; p(h_j = 1 | v) = σ(c_j + W_j·v),
 * p(v_i = 1 | h) = σ(b_i + Σ_j h_j W_ji).
 *
 * Training is tape-free (matmuls under noGrad, updates written in place);
 * no autograd and no optimizer are involved. forward() alone is on the tape,
 * so a stack of RBMs in a Sequential fine-tunes with fit (weight and
 * hidden_bias get gradients; visible_bias, unused by forward, does not).
 *
 * cdStep is synchronous (about 0.1 s for 1,000 rows × 784 visible × 500
 * hidden on two cores, native backend): in a server, call it per batch and
 * yield between batches (`await new Promise((r) => setImmediate(r))`).
 */
import { Tensor } from '../tensor/tensor.js';
import { add, matmul, rand, randn, sigmoid, zeros } from '../ops/index.js';
import { noGrad } from '../autograd/tape.js';
import { fmt } from '../tensor/shape.js';
import { describe } from '../ops/record.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { maskGradient, maskWeight } from '../prune/masks.js';
import { Linear } from './linear.js';
import { checkOptions, show } from './options.js';

/** The most elements one Float32Array may hold. */
const MAX_PARAMS = 2 ** 31 - 1;
/** Offset into a seeded RBM's stream where its sampling draws start (far past the weight initialisation's draws). */
const SAMPLE_OFFSET = 2n ** 40n;

export interface RBMOptions {
  /**
   * Seed for the initial weights and for every Bernoulli draw the RBM makes
   * (sampleHidden/sampleVisible/cdStep). Default: the global stream (see manualSeed).
   */
  seed?: number;
}

/** Turns probabilities p into 0/1 samples of the same shape (the default draws u ~ U[0,1) and returns u < p). */
export type BernoulliSampler = (probs: Tensor, what: 'hidden' | 'visible') => Tensor;

export interface CDStepOptions {
  /** Learning rate (required, finite > 0). */
  lr: number;
  /** Gibbs steps of the negative phase (default 1: CD-1). */
  k?: number;
  /**
   * Persistent CD (Tieleman 2008): the negative phase continues M fantasy
   * particles, a chain [M, V] kept on the RBM (`rbm.chain`) between calls,
   * instead of starting at the data (default false). The chain starts at
   * Bernoulli samples of the first batch (M = that batch's N); later batches
   * may have any size (the negative statistics are averaged over the M
   * chains, the positive over the N rows). For M chains of your choice set
   * `rbm.chain` to a float32 [M, V] tensor of values in [0, 1] first;
   * resetChain() drops it.
   */
  persistent?: boolean;
  /** Momentum of the updates (default 0): vel = momentum·vel + Δ, param += vel. */
  momentum?: number;
  /** L2 weight decay on W only, not the biases (default 0): Δ W -= lr·weightDecay·W. */
  weightDecay?: number;
  /** Replaces the Bernoulli draws (for known-answer tests or deterministic runs). Default: seeded Bernoulli. */
  sampler?: BernoulliSampler;
}

export interface CDStepResult {
  /** Mean squared error between the batch and one Gibbs step's visible probabilities, p(v | h ~ p(h | data)). */
  reconstructionError: number;
  /** ‖ΔW‖ / ‖W‖ of this step's weight update (Hinton's guide suggests about 1e-3). */
  updateRatio: number;
}

/**
 * nn.RBM(visible, hidden, { seed? }): a Bernoulli–Bernoulli RBM.
 *
 * Parameters (stateDict names): `weight` [H, V] (initialised N(0, 0.01²) as
 * Hinton's guide), `visible_bias` [V] and `hidden_bias` [H] (zeros).
 * forward(v [N, V]) returns the hidden probabilities [N, H], so trained RBMs
 * can initialise a stack (a deep-belief network) layer by layer.
 * The persistent chain and the momentum buffers are training state, not
 * saved by save()/stateDict().
 */
export class RBM extends Module {
  readonly weight: Tensor;
  readonly visibleBias: Tensor;
  readonly hiddenBias: Tensor;
  /** The persistent chain's visible states [M, V] (null until a persistent cdStep; settable, see CDStepOptions.persistent). */
  chain: Tensor | null = null;
  private velW: Float32Array | null = null;
  private velB: Float32Array | null = null;
  private velC: Float32Array | null = null;
  private readonly seed: number | undefined;
  private offset = SAMPLE_OFFSET;

  /**
   * @param visible V, the number of visible units (positive integer).
   * @param hidden H, the number of hidden units (positive integer).
   * @throws `fathom.RBM: visible must be a positive integer, got ...` (and for hidden, options, seed).
   */
  constructor(readonly visible: number, readonly hidden: number, opts: RBMOptions = {}) {
    super();
    for (const [n, v] of [['visible', visible], ['hidden', hidden]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.RBM: ${n} must be a positive integer, got ${show(v)}`);
    }
    checkOptions('RBM', opts, { seed: 'number' });
    if (opts.seed !== undefined && !(Number.isSafeInteger(opts.seed) && opts.seed >= 0)) throw new Error(`fathom.RBM: options.seed must be a non-negative integer, got ${show(opts.seed)}`);
    if (visible * hidden > MAX_PARAMS) throw new Error(`fathom.RBM: ${hidden} × ${visible} = ${visible * hidden} weights is more than one tensor can hold (${MAX_PARAMS})`);
    this.seed = opts.seed;
    this.weight = this.registerParameter('weight', randn([hidden, visible], { std: 0.01, seed: opts.seed }));
    this.visibleBias = this.registerParameter('visible_bias', zeros([visible]));
    this.hiddenBias = this.registerParameter('hidden_bias', zeros([hidden]));
  }

  private check(op: string, x: unknown, width: number, what: string): Tensor {
    const want = `[N, ${width}]`;
    if (!(x instanceof Tensor)) throw new Error(`fathom.RBM.${op}: expected ${what} a float32 Tensor ${want}, got ${describe(x)}`);
    if (x.dtype !== 'float32') throw new Error(`fathom.RBM.${op}: expected ${what} a float32 Tensor ${want}, got ${x.dtype} ${fmt(x.shape)}`);
    if (x.rank !== 2 || x.shape[1] !== width) throw new Error(`fathom.RBM.${op}: expected ${what} ${want}, got ${fmt(x.shape)}`);
    return x;
  }

  /** p(h = 1 | v) = σ(v Wᵀ + c): v [N, V] → [N, H]. @throws naming the shape when v is not a float32 [N, V]. */
  hiddenProbs(v: Tensor): Tensor {
    this.check('hiddenProbs', v, this.visible, 'v');
    return noGrad(() => sigmoid(add(matmul(v, this.weight, { transB: true }), this.hiddenBias)));
  }

  /** p(v = 1 | h) = σ(h W + b): h [N, H] → [N, V]. @throws naming the shape when h is not a float32 [N, H]. */
  visibleProbs(h: Tensor): Tensor {
    this.check('visibleProbs', h, this.hidden, 'h');
    return noGrad(() => sigmoid(add(matmul(h, this.weight), this.visibleBias)));
  }

  /**
   * p(h = 1 | v) as hiddenProbs, but on the autograd tape (a Linear V → H with
   * hidden_bias, then a sigmoid): v [N, V] → [N, H]. So RBMs stacked in a
   * Sequential (a deep-belief network) fine-tune with fit.
   */
  forward(v: Tensor): Tensor {
    this.check('forward', v, this.visible, 'v');
    return sigmoid(add(matmul(v, this.weight, { transB: true }), this.hiddenBias));
  }

  /** Uniform [0, 1) draws of `shape` from the RBM's seeded stream (or the global stream without a seed). */
  private uniform(shape: number[]): Tensor {
    if (this.seed === undefined) return rand(shape);
    const u = rand(shape, { seed: this.seed, offset: this.offset });
    this.offset += BigInt(Math.ceil(u.size / 4));
    return u;
  }

  /**
   * Bernoulli draws 1[u < p] with u from the RBM's seeded stream (or the global stream without a seed).
   * @throws `fathom.RBM.<op>: p(<what> | …) is NaN …` (a NaN input or diverged weights), never a silent 0.
   */
  private bernoulli(p: Tensor, op: string, what: 'hidden' | 'visible'): Tensor {
    const u = this.uniform([...p.shape]);
    const pu = p.f32(), uu = u.f32();
    const out = new Float32Array(p.size);
    for (let i = 0; i < out.length; i++) {
      const q = pu[i];
      if (q !== q) {
        const cols = p.shape[1];
        throw new Error(`fathom.RBM.${op}: p(${what} | ${what === 'hidden' ? 'v' : 'h'}) is NaN at [${Math.floor(i / cols)}, ${i % cols}] (expected probabilities: the input holds NaN, or the weights are not finite)`);
      }
      out[i] = uu[i] < q ? 1 : 0;
    }
    return new Tensor(out, [...p.shape]);
  }

  /** Binary hidden states h ~ p(h | v): v [N, V] → [N, H] of 0/1 (seeded). */
  sampleHidden(v: Tensor): Tensor {
    this.check('sampleHidden', v, this.visible, 'v');
    return this.bernoulli(this.hiddenProbs(v), 'sampleHidden', 'hidden');
  }

  /** Binary visible states v ~ p(v | h): h [N, H] → [N, V] of 0/1 (seeded). */
  sampleVisible(h: Tensor): Tensor {
    this.check('sampleVisible', h, this.hidden, 'h');
    return this.bernoulli(this.visibleProbs(h), 'sampleVisible', 'visible');
  }

  /**
   * Free energy F(v) = -vᵀb - Σ_j softplus(c_j + W_j·v), so p(v) ∝ exp(-F(v)):
   * v [N, V] → [N].
   */
  freeEnergy(v: Tensor): Tensor {
    this.check('freeEnergy', v, this.visible, 'v');
    const pre = noGrad(() => add(matmul(v, this.weight, { transB: true }), this.hiddenBias)).f32();
    const vv = v.f32(), b = this.visibleBias.f32();
    const [N, V, H] = [v.shape[0], this.visible, this.hidden];
    const out = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      let f = 0;
      for (let i = 0; i < V; i++) f -= vv[n * V + i] * b[i];
      for (let j = 0; j < H; j++) {
        const x = pre[n * H + j];
        f -= x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
      }
      out[n] = f;
    }
    return new Tensor(out, [N]);
  }

  /**
   * Mean squared error between v [N, V] and one Gibbs step's visible
   * probabilities p(v | h), h ~ p(h | v) (draws from the RBM's stream): a number.
   */
  reconstructionError(v: Tensor): number {
    this.check('reconstructionError', v, this.visible, 'v');
    return mse(v, this.visibleProbs(this.bernoulli(this.hiddenProbs(v), 'reconstructionError', 'hidden')));
  }

  /**
   * k steps of block Gibbs sampling from v [N, V] (h ~ p(h | v), then
   * v ~ p(v | h); scikit-learn's BernoulliRBM.gibbs for k = 1): the visible
   * samples [N, V] of 0/1 after k steps (seeded). v is not changed.
   * @throws `fathom.RBM.gibbs: k must be a positive integer, got ...` and for a v not float32 [N, V].
   */
  gibbs(v: Tensor, k = 1): Tensor {
    this.check('gibbs', v, this.visible, 'v');
    if (!Number.isSafeInteger(k) || k < 1) throw new Error(`fathom.RBM.gibbs: k must be a positive integer, got ${show(k)}`);
    let x = v;
    for (let s = 0; s < k; s++) {
      x = this.bernoulli(this.visibleProbs(this.bernoulli(this.hiddenProbs(x), 'gibbs', 'hidden')), 'gibbs', 'visible');
    }
    return x;
  }

  /**
   * Stochastic pseudo-log-likelihood of each row of binary v [N, V] →
   * [N] (scikit-learn's BernoulliRBM.score_samples): one visible unit i per
   * row, drawn from the RBM's stream, is flipped to give ṽ, and
   * PL(v) ≈ V · log σ(F(ṽ) − F(v)). Higher is better; its mean over a batch
   * is a cheap learning monitor (noisy: average over many rows).
   * @throws for a v not float32 [N, V] or holding values other than 0 and 1.
   */
  pseudoLikelihood(v: Tensor): Tensor {
    this.check('pseudoLikelihood', v, this.visible, 'v');
    const vd = v.f32();
    const V = this.visible, N = v.shape[0];
    for (let i = 0; i < vd.length; i++) {
      if (vd[i] !== 0 && vd[i] !== 1) throw new Error(`fathom.RBM.pseudoLikelihood: v must be binary (0 or 1), got ${vd[i]} at [${Math.floor(i / V)}, ${i % V}]`);
    }
    if (N === 0) return new Tensor(new Float32Array(0), [0]);
    const u = this.uniform([N]).f32();
    const flipped = Float32Array.from(vd);
    for (let n = 0; n < N; n++) {
      const i = n * V + Math.min(V - 1, Math.floor(u[n] * V));
      flipped[i] = 1 - flipped[i];
    }
    const f = this.freeEnergy(v).f32(), g = this.freeEnergy(new Tensor(flipped, [N, V])).f32();
    const out = new Float32Array(N);
    for (let n = 0; n < N; n++) {
      // V · log σ(d) = -V · softplus(-d), d = F(ṽ) − F(v), computed stably.
      const d = g[n] - f[n];
      out[n] = -V * (d < 0 ? -d + Math.log1p(Math.exp(d)) : Math.log1p(Math.exp(-d)));
    }
    return new Tensor(out, [N]);
  }

  /** Drops the persistent chain (the next persistent cdStep starts a new one, of any batch size). */
  resetChain(): void {
    this.chain = null;
  }

  /**
   * One contrastive-divergence update on a batch v [N, V] of values in [0, 1]:
   * positive statistics ⟨v hᵀ⟩ from the data with h = p(h | v); negative
   * statistics from k Gibbs steps (h ~ p(h|v), v ~ p(v|h), sampled binary),
   * started at the data (CD-k, Hinton 2002) or at the persistent chain [M, V]
   * (PCD, Tieleman 2008), with the final hidden statistics taken as
   * probabilities p(h | v_k) as Hinton's guide recommends.
   * ΔW = lr·(p_0ᵀ v_0 / N - p_kᵀ v_k / M - weightDecay·W), Δb = lr·(mean(v_0) - mean(v_k)),
   * Δc = lr·(mean(p_0) - mean(p_k)) (M = N without persistent); with momentum,
   * vel = momentum·vel + Δ and param += vel. A pruned weight (prune.magnitude
   * with include: ['…']) keeps its masked entries at 0 (and their velocity).
   * @returns { reconstructionError, updateRatio } (see CDStepResult).
   * @throws `fathom.RBM.cdStep: ...` for a v that is not float32 [N, V] with
   *   N >= 1 or holds values outside [0, 1] (NaN included), lr/k/momentum/
   *   weightDecay out of range, an unknown option, a frozen RBM (freeze() or
   *   requiresGrad false on a parameter: unfreeze() to train it), a `chain`
   *   that is not float32 [M, V] of values in [0, 1], a sampler returning
   *   something else than a float32 tensor of its input's shape, or an update
   *   that made the weights non-finite (lr too large).
   */
  cdStep(v: Tensor, opts: CDStepOptions): CDStepResult {
    this.check('cdStep', v, this.visible, 'v');
    if (opts === null || typeof opts !== 'object') throw new Error(`fathom.RBM.cdStep: expected options { lr, k?, persistent?, momentum?, weightDecay?, sampler? }, got ${show(opts)}`);
    checkOptions('RBM.cdStep', opts, { lr: 'number', k: 'number', persistent: 'boolean', momentum: 'number', weightDecay: 'number', sampler: 'function' });
    const { lr } = opts;
    if (typeof lr !== 'number' || !Number.isFinite(lr) || lr <= 0) throw new Error(`fathom.RBM.cdStep: lr must be a finite number > 0, got ${show(lr)}`);
    const k = opts.k ?? 1;
    if (!Number.isSafeInteger(k) || k < 1) throw new Error(`fathom.RBM.cdStep: k must be a positive integer, got ${show(k)}`);
    const momentum = opts.momentum ?? 0;
    if (!Number.isFinite(momentum) || momentum < 0 || momentum >= 1) throw new Error(`fathom.RBM.cdStep: momentum must be a number in [0, 1), got ${show(momentum)}`);
    const wd = opts.weightDecay ?? 0;
    if (!Number.isFinite(wd) || wd < 0) throw new Error(`fathom.RBM.cdStep: weightDecay must be a finite number >= 0, got ${show(wd)}`);
    const frozen = this.namedParameters().filter(([, t]) => !t.requiresGrad).map(([n]) => `'${n}'`);
    if (frozen.length) throw new Error(`fathom.RBM.cdStep: the RBM is frozen (${frozen.join(', ')} ${frozen.length === 1 ? 'has' : 'have'} requiresGrad false); unfreeze() it to train it with cdStep`);
    const N = v.shape[0];
    if (N < 1) throw new Error(`fathom.RBM.cdStep: expected v [N, ${this.visible}] with N >= 1, got ${fmt(v.shape)}`);
    const vd = v.f32();
    for (let i = 0; i < vd.length; i++) {
      if (!(vd[i] >= 0 && vd[i] <= 1)) throw new Error(`fathom.RBM.cdStep: v must hold values in [0, 1] (binary data or probabilities), got ${vd[i]} at [${Math.floor(i / this.visible)}, ${i % this.visible}]`);
    }
    const persistent = opts.persistent ?? false;
    if (persistent && this.chain !== null) this.checkChain();
    const sample = (p: Tensor, what: 'hidden' | 'visible'): Tensor => {
      if (!opts.sampler) return this.bernoulli(p, 'cdStep', what);
      const s = opts.sampler(p, what);
      if (!(s instanceof Tensor) || s.dtype !== 'float32' || s.rank !== 2 || s.shape[0] !== p.shape[0] || s.shape[1] !== p.shape[1]) {
        throw new Error(`fathom.RBM.cdStep: sampler must return a float32 Tensor ${fmt(p.shape)} of ${what} states, got ${s instanceof Tensor ? `${s.dtype} ${fmt(s.shape)}` : describe(s)}`);
      }
      return s;
    };

    // Positive phase and the reconstruction (one Gibbs step from the data).
    const ph0 = this.hiddenProbs(v);
    const h0 = sample(ph0, 'hidden');
    const pv1 = this.visibleProbs(h0);
    const reconstructionError = mse(v, pv1);

    // Negative phase: k Gibbs steps from the data (CD) or the chain (PCD).
    let vk: Tensor;
    let h: Tensor;
    if (persistent) {
      if (!this.chain) this.chain = sample(v, 'visible');
      h = sample(this.hiddenProbs(this.chain), 'hidden');
      vk = sample(this.visibleProbs(h), 'visible');
    } else {
      vk = sample(pv1, 'visible');
    }
    let phk = this.hiddenProbs(vk);
    for (let s = 1; s < k; s++) {
      h = sample(phk, 'hidden');
      vk = sample(this.visibleProbs(h), 'visible');
      phk = this.hiddenProbs(vk);
    }
    if (persistent) this.chain = vk;
    const M = vk.shape[0];

    // Updates (in place).
    const pos = noGrad(() => matmul(ph0, v, { transA: true })).f32();
    const neg = noGrad(() => matmul(phk, vk, { transA: true })).f32();
    const [V, H] = [this.visible, this.hidden];
    const W = this.weight.data as Float32Array, b = this.visibleBias.data as Float32Array, c = this.hiddenBias.data as Float32Array;
    if (momentum > 0 && !this.velW) {
      this.velW = new Float32Array(H * V);
      this.velB = new Float32Array(V);
      this.velC = new Float32Array(H);
    }
    const dW = momentum > 0 ? this.velW! : new Float32Array(H * V);
    for (let i = 0; i < H * V; i++) {
      const d = lr * (pos[i] / N - neg[i] / M - wd * W[i]);
      dW[i] = momentum > 0 ? momentum * dW[i] + d : d;
    }
    // A pruned weight: no update (and no velocity) for its masked entries.
    maskGradient(this.weight, dW);
    let dw2 = 0, w2 = 0;
    for (let i = 0; i < H * V; i++) {
      W[i] += dW[i];
      dw2 += dW[i] * dW[i];
      w2 += W[i] * W[i];
    }
    maskWeight(this.weight);
    const vkd = vk.f32(), p0 = ph0.f32(), pk = phk.f32();
    for (let i = 0; i < V; i++) {
      let s0 = 0, sk = 0;
      for (let n = 0; n < N; n++) s0 += vd[n * V + i];
      for (let n = 0; n < M; n++) sk += vkd[n * V + i];
      let d = lr * (s0 / N - sk / M);
      if (momentum > 0) d = this.velB![i] = momentum * this.velB![i] + d;
      b[i] += d;
    }
    for (let j = 0; j < H; j++) {
      let s0 = 0, sk = 0;
      for (let n = 0; n < N; n++) s0 += p0[n * H + j];
      for (let n = 0; n < M; n++) sk += pk[n * H + j];
      let d = lr * (s0 / N - sk / M);
      if (momentum > 0) d = this.velC![j] = momentum * this.velC![j] + d;
      c[j] += d;
    }
    if (!Number.isFinite(w2)) throw new Error(`fathom.RBM.cdStep: the update made the weights non-finite (‖W‖² = ${w2}); expected a smaller lr than ${lr}`);
    return { reconstructionError, updateRatio: w2 > 0 ? Math.sqrt(dw2 / w2) : Infinity };
  }

  /** The persistent chain must be float32 [M, V], M >= 1, values in [0, 1] (it is a public, settable field). */
  private checkChain(): void {
    const c: unknown = this.chain;
    const want = `a float32 Tensor [M, ${this.visible}] (M >= 1) of values in [0, 1], or null`;
    if (!(c instanceof Tensor)) throw new Error(`fathom.RBM.cdStep: rbm.chain must be ${want}, got ${describe(c)}`);
    if (c.dtype !== 'float32' || c.rank !== 2 || c.shape[1] !== this.visible || c.shape[0] < 1) throw new Error(`fathom.RBM.cdStep: rbm.chain must be ${want}, got ${c.dtype} ${fmt(c.shape)}`);
    const d = c.f32();
    for (let i = 0; i < d.length; i++) {
      if (!(d[i] >= 0 && d[i] <= 1)) throw new Error(`fathom.RBM.cdStep: rbm.chain must be ${want}, got ${d[i]} at [${Math.floor(i / this.visible)}, ${i % this.visible}]`);
    }
  }

  /**
   * A new nn.Linear(V, H) holding copies of `weight` [H, V] and `hidden_bias`
   * [H] (its bias): followed by nn.Sigmoid it computes forward(v). The usual
   * way to start fine-tuning from a trained RBM (a DBN's layer). Does not draw
   * from the global random stream.
   */
  toLinear(): Linear {
    const l = new Linear(this.visible, this.hidden, { seed: 0 }); // seeded: the global stream is not consumed
    (l.weight.data as Float32Array).set(this.weight.data as Float32Array);
    (l.bias!.data as Float32Array).set(this.hiddenBias.data as Float32Array);
    return l;
  }

  override config(): ModuleConfig {
    return { type: 'RBM', visible: this.visible, hidden: this.hidden };
  }
}
fixedStructure.add(RBM);

function mse(a: Tensor, b: Tensor): number {
  const x = a.f32(), y = b.f32();
  let s = 0;
  for (let i = 0; i < x.length; i++) s += (x[i] - y[i]) ** 2;
  return x.length ? s / x.length : 0;
}
