/**
 * nn.Embedding (PyTorch's torch.nn.Embedding): a table of V = numEmbeddings
 * vectors of D = embeddingDim values, looked up by int32 indices of any
 * shape I → float32 [...I, D]. The state-dict name and layout are PyTorch's
 * (`weight` [V, D]), so a PyTorch state dict loads by name.
 *
 * Initialisation as PyTorch's reset_parameters: weight ~ N(0, 1), the
 * paddingIdx row (if any) set to zero; that row gets no gradient, so it
 * stays what it is while training.
 */
import { Tensor } from '../tensor/tensor.js';
import { randn } from '../ops/index.js';
import { checkPaddingIdx, embedding } from '../ops/embedding.js';
import { checkOptions } from '../ops/options.js';
import { describe } from '../ops/record.js';
import { describeValue, fmt } from '../tensor/shape.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';

/** The most elements one Float32Array may hold. */
const MAX_PARAMS = 2 ** 31 - 1;

export interface EmbeddingLayerOptions {
  /** A row that is zero at initialisation and gets no gradient (PyTorch's padding_idx; negative counts from the end). Default none. */
  paddingIdx?: number | null;
  /** Seed of the initial weights (default: the global stream, see manualSeed). */
  seed?: number;
}

export class Embedding extends Module {
  readonly weight: Tensor;
  /** The padding row in [0, numEmbeddings), or null. */
  readonly paddingIdx: number | null;

  /**
   * @param numEmbeddings V, the number of rows (vocabulary size).
   * @param embeddingDim D, the length of each vector.
   * @throws `fathom.Embedding: …` for a size that is not a positive integer,
   *   a table too large for one tensor, paddingIdx outside [−V, V), or an unknown option.
   */
  constructor(readonly numEmbeddings: number, readonly embeddingDim: number, options: EmbeddingLayerOptions = {}) {
    super();
    for (const [n, v] of [['numEmbeddings', numEmbeddings], ['embeddingDim', embeddingDim]] as const) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) throw new Error(`fathom.Embedding: ${n} must be a positive integer, got ${describeValue(v)}`);
    }
    const o = checkOptions('Embedding', options, ['paddingIdx', 'seed']);
    if (numEmbeddings * embeddingDim > MAX_PARAMS) {
      throw new Error(`fathom.Embedding: ${numEmbeddings} × ${embeddingDim} = ${numEmbeddings * embeddingDim} weights is more than one tensor can hold (${MAX_PARAMS})`);
    }
    if (o.seed !== undefined && (typeof o.seed !== 'number' || !Number.isFinite(o.seed))) throw new Error(`fathom.Embedding: options.seed must be a finite number, got ${describeValue(o.seed)}`);
    this.paddingIdx = checkPaddingIdx('Embedding', o.paddingIdx, numEmbeddings);
    const w = randn([numEmbeddings, embeddingDim], { seed: o.seed });
    if (this.paddingIdx !== null) w.f32().fill(0, this.paddingIdx * embeddingDim, (this.paddingIdx + 1) * embeddingDim);
    this.weight = this.registerParameter('weight', w);
  }

  /**
   * The vectors of int32 `indices` of any shape I → float32 [...I, embeddingDim].
   * @throws `fathom.Embedding: …` when indices is not an int32 Tensor or holds a
   *   value outside [0, numEmbeddings) (naming the position and the value).
   */
  forward(indices: Tensor): Tensor {
    if (!(indices instanceof Tensor) || indices.dtype !== 'int32') {
      const got = indices instanceof Tensor ? `${indices.dtype} ${fmt(indices.shape)}` : describe(indices);
      throw new Error(`fathom.Embedding: expected int32 indices of any shape (values in [0, ${this.numEmbeddings - 1}]), got ${got}`);
    }
    try {
      return embedding(indices, this.weight, { paddingIdx: this.paddingIdx });
    } catch (e) {
      if (e instanceof Error && e.message.startsWith('fathom.embedding:')) throw new Error(e.message.replace('fathom.embedding:', 'fathom.Embedding:'), { cause: e });
      throw e;
    }
  }

  override config(): ModuleConfig {
    const c: ModuleConfig = { type: 'Embedding', numEmbeddings: this.numEmbeddings, embeddingDim: this.embeddingDim };
    if (this.paddingIdx !== null) c.paddingIdx = this.paddingIdx;
    return c;
  }
}
fixedStructure.add(Embedding);
