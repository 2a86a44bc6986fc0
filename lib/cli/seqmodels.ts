/**
 * The recurrent networks of `fathom train --dataset names|spam|smnist`
 * (--model lstm | gru | rnn), one Module for both uses, registered as the
 * saveable type 'RecurrentNet' when this file is imported (lib/index.ts does,
 * so fathom.load reads the models `fathom train --save` writes).
 *
 *   tokens x int32 [N, T] → Embedding(V, E) → RNN/LSTM/GRU(E, H, L layers) ─┐
 *   features x float32 [N, T, I] ─────────────→ RNN/LSTM/GRU(I, H, L)  ─────┤
 *     perStep:  output [N, T, H] → Dropout? → Linear(H, K) → logits [N, T, K]   (a language model)
 *     last:     h of the last layer at each sequence's length [N, H] → Dropout? → Linear(H, K) → [N, K]
 *
 * With tokens, the length of each row is the position of its first PAD (0)
 * (data.padSequences pads after the values and PAD never occurs inside a
 * sequence), passed to forwardWithState as `lengths` (PyTorch's packed
 * sequences): the final state is the state at each row's own length.
 * Also the masked per-step cross-entropy of a language model.
 */
import { Tensor } from '../tensor/tensor.js';
import { crossEntropy } from '../losses/index.js';
import { dropout, index, narrow, reshape } from '../ops/index.js';
import { Module, type ModuleConfig } from '../layers/module.js';
import { Embedding } from '../layers/embedding.js';
import { Linear } from '../layers/linear.js';
import { GRU, LSTM, RNN } from '../layers/rnn.js';
import { registerModuleType } from '../layers/registry.js';

export type Cell = 'lstm' | 'gru' | 'rnn';

export interface RecurrentNetConfig {
  cell: Cell;
  /** V, the vocabulary (token inputs int32 [N, T]); null for float32 features [N, T, inputSize]. */
  vocabSize: number | null;
  /** E with tokens (the embedding width), I with features. */
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Dropout before the output layer (training only). */
  dropout: number;
  /** K, the output classes. */
  outputs: number;
  /** true: logits at every step [N, T, K]; false: from the final state [N, K]. */
  perStep: boolean;
}

export class RecurrentNet extends Module {
  readonly embedding: Embedding | null;
  readonly rnn: LSTM | GRU | RNN;
  readonly head: Linear;

  constructor(readonly cfg: RecurrentNetConfig) {
    super();
    const { cell, vocabSize, inputSize: e, hiddenSize: h, numLayers } = cfg;
    this.embedding = vocabSize === null ? null : this.registerModule('embedding', new Embedding(vocabSize, e, { paddingIdx: 0 }));
    const Layer = cell === 'lstm' ? LSTM : cell === 'gru' ? GRU : RNN;
    this.rnn = this.registerModule('rnn', new Layer(e, h, { batchFirst: true, numLayers }));
    this.head = this.registerModule('head', new Linear(h, cfg.outputs));
  }

  /** tokens int32 [N, T] or features float32 [N, T, I] → logits [N, T, K] (perStep) or [N, K]. */
  forward(x: Tensor): Tensor {
    const { vocabSize, hiddenSize: h, numLayers, perStep } = this.cfg;
    if (!(x instanceof Tensor) || (vocabSize !== null ? x.dtype !== 'int32' || x.rank !== 2 : x.dtype !== 'float32' || x.rank !== 3)) {
      const want = vocabSize !== null ? 'int32 tokens [N, T]' : `float32 features [N, T, ${this.cfg.inputSize}]`;
      throw new Error(`fathom.RecurrentNet: expected ${want}, got ${x instanceof Tensor ? `${x.dtype} [${x.shape.join(', ')}]` : typeof x}`);
    }
    const [n, t] = x.shape;
    let lengths: Int32Array | null = null;
    let seq = x;
    if (this.embedding) {
      if (!perStep) lengths = padLengths(x);
      seq = this.embedding.forward(x);
    }
    const r = this.rnn.forwardWithState(seq, null, { lengths });
    let feat = perStep ? reshape(r.output, [n * t, h]) : reshape(narrow(r.h, 0, numLayers - 1, 1), [n, h]);
    if (this.cfg.dropout > 0 && this.training) feat = dropout(feat, this.cfg.dropout, true);
    const logits = this.head.forward(feat);
    return perStep ? reshape(logits, [n, t, this.cfg.outputs]) : logits;
  }

  override config(): ModuleConfig {
    return { type: 'RecurrentNet', ...this.cfg };
  }
}

registerModuleType('RecurrentNet', (c) => new RecurrentNet({
  cell: c.cell as Cell, vocabSize: c.vocabSize as number | null, inputSize: c.inputSize as number, hiddenSize: c.hiddenSize as number,
  numLayers: c.numLayers as number, dropout: c.dropout as number, outputs: c.outputs as number, perStep: c.perStep as boolean,
}));

/** Each row's length: the index of its first PAD (0), or T (at least 1: a row of PADs counts one step). */
export function padLengths(x: Tensor): Int32Array {
  const [n, t] = x.shape;
  const d = x.data as Int32Array;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let k = 0;
    while (k < t && d[i * t + k] !== 0) k++;
    out[i] = Math.max(1, k);
  }
  return out;
}

/**
 * The mean cross-entropy over the steps whose target is not PAD (0): logits
 * [N, T, K], targets int32 [N, T] → a scalar, in nats per predicted step
 * (PyTorch's CrossEntropyLoss(ignore_index=0)). The padded steps are left
 * out before the softmax (one index op), so they cost nothing and get no gradient.
 */
export function maskedCrossEntropy(logits: Tensor, targets: Tensor): Tensor {
  const [n, t, k] = logits.shape;
  const td = targets.data as Int32Array;
  const keep: number[] = [];
  for (let i = 0; i < n * t; i++) if (td[i] !== 0) keep.push(i);
  const at = new Tensor(Int32Array.from(keep), [keep.length]);
  const rows = index(reshape(logits, [n * t, k]), at, 0);
  const y = new Tensor(Int32Array.from(keep, (i) => td[i]), [keep.length]);
  return crossEntropy(rows, y);
}
