/**
 * The networks `fathom train` builds from its options: the MLP (--model mlp)
 * and the CNN (--model cnn), each with a one-line description for the
 * summary and the plot titles. The perceptron is built in train.ts.
 *
 *   MLP  x [N, D]       → (Linear → activation → Dropout?) per --hidden → Linear → [N, outputs]
 *   CNN  x [N, C, H, W] → (Conv2d k×k, no bias → BatchNorm2d → activation → MaxPool2d(2)) per --channels
 *                       → Flatten → (Linear → activation → Dropout?) per --hidden → Linear → [N, outputs]
 *
 * The conv has no bias because the batch norm after it subtracts the mean
 * of each channel (a bias would be cancelled; PyTorch's ResNets do the same).
 */
import type { TrainOptions } from './args.js';
import type { Module } from '../layers/module.js';
import { cnnSides, type Activation } from './recipes.js';

type Fathom = typeof import('../index.js');

export interface Built {
  model: Module;
  /** The architecture in a few words: `MLP 784-256-256-10 relu`. */
  arch: string;
  /** Trainable parameters (weights and biases; batch-norm running statistics are buffers, not counted). */
  parameters: number;
}

export function activation(f: Fathom, name: Activation): Module {
  const { nn } = f;
  const table: Record<Activation, () => Module> = {
    relu: () => new nn.ReLU(),
    tanh: () => new nn.Tanh(),
    sigmoid: () => new nn.Sigmoid(),
    leakyRelu: () => new nn.LeakyReLU(),
    elu: () => new nn.ELU(),
    gelu: () => new nn.GELU(),
    silu: () => new nn.SiLU(),
    softplus: () => new nn.Softplus(),
  };
  return table[name]();
}

const RELU_FAMILY: readonly Activation[] = ['relu', 'leakyRelu', 'elu', 'gelu', 'silu'];

/** The dense layers from `width` inputs through --hidden to `outputs`, each hidden one followed by the activation and dropout. */
function dense(f: Fathom, o: TrainOptions, width: number, outputs: number): Module[] {
  const layers: Module[] = [];
  for (const h of o.hidden) {
    layers.push(new f.nn.Linear(width, h, { init: RELU_FAMILY.includes(o.activation) ? 'he' : 'glorot' }), activation(f, o.activation));
    if (o.dropout > 0) layers.push(new f.nn.Dropout(o.dropout));
    width = h;
  }
  layers.push(new f.nn.Linear(width, outputs));
  return layers;
}

const count = (m: Module) => m.parameters().reduce((a, t) => a + t.size, 0);

/** The MLP on `[N, inFeatures]` rows. */
export function buildMlp(f: Fathom, o: TrainOptions, inFeatures: number, outputs: number): Built {
  const model = new f.nn.Sequential(...dense(f, o, inFeatures, outputs));
  return { model, arch: `MLP ${[inFeatures, ...o.hidden, outputs].join('-')} ${o.activation}`, parameters: count(model) };
}

/** The CNN on `[N, C, H, W]` images with a square H = W (o.cnn gives the conv blocks; args.ts checked that they fit). */
export function buildCnn(f: Fathom, o: TrainOptions, image: readonly [number, number, number], outputs: number): Built {
  const { nn } = f;
  const { channels, kernelSize: k, padding } = o.cnn!;
  const [inC, h] = image;
  const sides = cnnSides(h, channels.length, k, padding);
  if (sides.length < channels.length) throw new Error(`fathom train: ${channels.length} conv blocks do not fit a ${h}x${h} image`);
  const layers: Module[] = [];
  let c = inC;
  for (const out of channels) {
    layers.push(new nn.Conv2d(c, out, k, { padding, bias: false }), new nn.BatchNorm2d(out), activation(f, o.activation), new nn.MaxPool2d(2));
    c = out;
  }
  const side = sides[sides.length - 1] ?? h;
  const flat = c * side * side;
  layers.push(new nn.Flatten(), ...dense(f, o, flat, outputs));
  const model = new nn.Sequential(...layers);
  const blocks = channels.map((ch, i) => `conv${k}x${k} ${ch} → ${sides[i]}x${sides[i]}`).join(' · ');
  const head = [flat, ...o.hidden, outputs].join('-');
  return {
    model,
    arch: `CNN ${inC}x${h}x${h} · ${blocks} (${padding}, each + batch norm ${o.activation} max pool 2) · dense ${head}`,
    parameters: count(model),
  };
}
