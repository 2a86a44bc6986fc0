/** Sequential: modules applied one after another. */
import { Tensor } from '../tensor/tensor.js';
import { Module, fixedStructure, type ModuleConfig } from './module.js';
import { describe } from '../ops/record.js';
import { fmt } from '../tensor/shape.js';
import { Linear } from './linear.js';
import { Conv1d, Conv2d } from './conv.js';
import { fusableActivation as fusable } from './activations.js';

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

  /**
   * Applies the layers in order. A layer's error is re-thrown prefixed with
   * `fathom.Sequential: layer <i> (<Type>)`, so the failing layer is named
   * (and, past layer 0, suffixed with the Sequential's input shape).
   * @throws if x is not a Tensor, a layer refuses its input, or a layer returns a non-Tensor.
   */
  forward(x: Tensor): Tensor {
    if (!(x instanceof Tensor)) throw new Error(`fathom.Sequential: expected a Tensor input, got ${describe(x)}`);
    let y = x;
    const layers = this.layers;
    for (let i = 0; i < layers.length; i++) {
      const m = layers[i];
      const fuses = m.constructor === Linear || m.constructor === Conv2d || m.constructor === Conv1d;
      const act = fuses ? fusable(layers[i + 1]) : null;
      try {
        if (act) {
          // Linear or Conv1d/Conv2d followed by its activation: the activation runs in the
          // layer's fused bias epilogue (one pass less forward, and backward one op less).
          y = (m as Linear | Conv2d | Conv1d).forwardWith(y, act);
        } else {
          y = m.forward(y);
        }
      } catch (e) {
        if (!(e instanceof Error)) throw e;
        // After layer 0 the layer's input is not what the caller passed: show the batch's shape too.
        const batch = i > 0 ? ` (the Sequential's input was ${fmt(x.shape)})` : '';
        throw new Error(`fathom.Sequential: layer ${i} (${m.constructor.name}): ${e.message}${batch}`, { cause: e });
      }
      if (!(y instanceof Tensor)) {
        throw new Error(`fathom.Sequential: layer ${i} (${m.constructor.name}) returned ${describe(y)}, expected a Tensor`);
      }
      if (act) i++;
    }
    return y;
  }

  override config(): ModuleConfig {
    return { type: 'Sequential', layers: this.layers.map((m) => m.config()) };
  }
}
fixedStructure.add(Sequential);
