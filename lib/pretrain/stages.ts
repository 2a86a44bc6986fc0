/**
 * The encoder stages pretrain.layerwise() takes, read once before any
 * training: each stage is either a bare nn.Linear (its activation given by
 * options.activation) or an nn.Sequential whose first layer is an nn.Linear
 * followed by the stage's own layers (an activation, dropout, ...). The
 * Linear gives the stage's widths [N, in] → [N, out], is the weight a tied
 * decoder reuses, and is what the rbm method initialises.
 */
import { Module } from '../layers/module.js';
import { Linear } from '../layers/linear.js';
import { Sequential } from '../layers/sequential.js';
import { ReLU, Sigmoid, Tanh } from '../layers/activations.js';
import { describe } from '../ops/record.js';
import { Tensor } from '../tensor/tensor.js';
import { predict } from '../models/training.js';

/**
 * Rows per chunk of the work pre-training does outside fit (the before/after figures, the codes for the
 * next stage): the event loop runs between chunks, so no call blocks it for more than one chunk's
 * forward pass (a few ms natively), whatever N is.
 */
export const MEASURE_BATCH = 256;

/** Lets the caller's event loop run (timers, I/O) before the next chunk. */
export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * module's output for every row of x [N, D] in eval mode without the tape (as predict), computed in
 * chunks of MEASURE_BATCH rows with a yield to the event loop after each; rank-2 outputs only.
 */
export async function codesOf(module: Module, x: Tensor): Promise<Tensor> {
  const n = x.shape[0];
  let out: Float32Array | undefined;
  let width = 0;
  let shape: number[] = [];
  for (let s = 0; s < n; s += MEASURE_BATCH) {
    const y = predict(module, x.slice(s, Math.min(n, s + MEASURE_BATCH), 0)) as Tensor;
    if (!out) {
      shape = [...y.shape];
      if (y.rank !== 2) return y; // the caller refuses it, naming the stages
      width = y.shape[1];
      out = new Float32Array(n * width);
    }
    out.set(y.f32(), s * width);
    await tick();
  }
  return new Tensor(out ?? new Float32Array(0), [n, shape[1] ?? 0]);
}

/** The activation after a bare nn.Linear stage. */
export type StageActivation = 'sigmoid' | 'relu' | 'tanh';
export const STAGE_ACTIVATIONS: readonly StageActivation[] = ['sigmoid', 'relu', 'tanh'];

export interface Stage {
  /** The stage as the caller gave it. */
  layer: Module;
  /** Its Linear (the stage itself, or the Sequential's first layer). */
  linear: Linear;
  /** What computes the stage's code: the Sequential itself, or Sequential(linear, activation) for a bare Linear. */
  encoder: Module;
  /** Whether the code is σ(Wx + b) exactly: a bare Linear with activation 'sigmoid', or Sequential(Linear, Sigmoid). */
  sigmoid: boolean;
  /** A few words for messages and progress: `Linear(784→500) + sigmoid`. */
  text: string;
}

function activationLayer(name: StageActivation): Module {
  switch (name) {
    case 'sigmoid': return new Sigmoid();
    case 'relu': return new ReLU();
    case 'tanh': return new Tanh();
  }
}

/**
 * Reads the stages and checks that their Linears chain (each stage's
 * inFeatures is the previous one's outFeatures).
 * @throws `fathom.pretrain.layerwise: layers ...` naming the stage at fault.
 */
export function readStages(op: string, layers: unknown, activation: StageActivation | undefined): Stage[] {
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new Error(`fathom.${op}: layers must be a non-empty array of encoder stages (nn.Linear, or nn.Sequential starting with an nn.Linear), got ${Array.isArray(layers) ? 'an empty array' : describe(layers)}`);
  }
  const stages: Stage[] = [];
  const seen = new Set<Linear>();
  let bare = 0;
  layers.forEach((layer: unknown, k) => {
    let linear: Linear;
    let encoder: Module;
    let sigmoid: boolean;
    let text: string;
    if (layer instanceof Linear) {
      bare++;
      linear = layer;
      const act = activation ?? 'sigmoid';
      encoder = new Sequential(layer, activationLayer(act));
      sigmoid = act === 'sigmoid';
      text = `Linear(${layer.inFeatures}→${layer.outFeatures}) + ${act}`;
    } else if (layer instanceof Sequential && layer.layers[0] instanceof Linear) {
      linear = layer.layers[0];
      encoder = layer;
      const rest = layer.layers.slice(1);
      sigmoid = rest.length === 1 && rest[0].constructor === Sigmoid;
      text = `Linear(${linear.inFeatures}→${linear.outFeatures})${rest.map((m) => ` + ${m.constructor.name}`).join('')}`;
    } else {
      const what = layer instanceof Sequential
        ? `an nn.Sequential starting with ${layer.layers[0] ? describe(layer.layers[0]) : 'nothing'}`
        : describe(layer);
      throw new Error(`fathom.${op}: layers[${k}] must be an nn.Linear or an nn.Sequential starting with an nn.Linear, got ${what}`);
    }
    if (seen.has(linear)) throw new Error(`fathom.${op}: layers[${k}] uses the same nn.Linear as an earlier stage; each stage needs its own`);
    seen.add(linear);
    if (k > 0 && linear.inFeatures !== stages[k - 1].linear.outFeatures) {
      throw new Error(
        `fathom.${op}: layers[${k}] takes ${linear.inFeatures} features but layers[${k - 1}] gives ${stages[k - 1].linear.outFeatures} ` +
        `(${stages[k - 1].text} → ${text}); each stage reads the codes of the one below`,
      );
    }
    stages.push({ layer: layer as Module, linear, encoder, sigmoid, text });
  });
  if (activation !== undefined && bare === 0) {
    throw new Error(`fathom.${op}: options.activation applies to bare nn.Linear stages; these stages are nn.Sequential with their own activations (drop the option)`);
  }
  return stages;
}
