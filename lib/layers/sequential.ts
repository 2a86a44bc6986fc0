/** Sequential: modules applied one after another. */
import { Tensor } from '../tensor/tensor.js';
import { Module, type ModuleConfig } from './module.js';
import { Linear } from './linear.js';
import { ReLU, Sigmoid, Tanh } from './activations.js';
import type { ActOp } from '../backend/backend.js';

/** The activation a Linear layer can fuse with, if `m` is exactly one of them. */
function fusable(m: Module | undefined): ActOp | null {
  if (!m) return null;
  if (m.constructor === ReLU) return 'relu';
  if (m.constructor === Sigmoid) return 'sigmoid';
  if (m.constructor === Tanh) return 'tanh';
  return null;
}

export class Sequential extends Module {
  readonly layers: Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) throw new Error(`fathom.Sequential: argument ${i} is not a Module`);
      this.registerModule(String(i), m);
    });
    this.layers = layers;
  }

  forward(x: Tensor): Tensor {
    let y = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      const act = m.constructor === Linear ? fusable(layers[i + 1]) : null;
      if (act) {
        // Linear followed by its activation: one GEMM + one fused bias/activation pass.
        y = (m as Linear).forwardWith(y, act);
        i++;
      } else {
        y = m.forward(y);
      }
    }
    return y;
  }

  config(): ModuleConfig {
    return { type: 'Sequential', layers: this.layers.map((m) => m.config()) };
  }
}
