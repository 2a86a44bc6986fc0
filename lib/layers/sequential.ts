/** Sequential: modules applied one after another. */
import { Tensor } from '../tensor/tensor.js';
import { Module, type ModuleConfig } from './module.js';

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
    for (const m of this.layers) y = m.forward(y);
    return y;
  }

  config(): ModuleConfig {
    return { type: 'Sequential', layers: this.layers.map((m) => m.config()) };
  }
}
