// The custom layer of the serving tests, for this thread: test/serve/fixtures/scale-layer.mjs defines the
// same layer for a worker (given as `imports`, it registers with the compiled package the worker runs).
import { nn, ones, type Tensor } from '../../lib/index.js';

/** y = x · scale (elementwise over the last dimension D), scale a parameter [D] of ones. */
export class Scale extends nn.Module {
  scale: Tensor;
  constructor(readonly features: number) {
    super();
    this.scale = nn.parameter(ones([features]));
  }
  forward(x: Tensor): Tensor {
    return x.mul(this.scale);
  }
  override config(): nn.ModuleConfig {
    return { type: 'Scale', features: this.features };
  }
}

/** Registers Scale on this thread (load/deserialize here can then rebuild it). */
export function registerScale(): void {
  nn.registerModuleType('Scale', (c) => new Scale(c.features as number), (c) => [['scale', [c.features as number]]]);
}
