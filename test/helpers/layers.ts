// The custom layers of the serving fault tests, as this thread registers them: pass-through modules whose
// worker-side twins (test/serve/fixtures/*.mjs, loaded with a pool's `imports`) stall or exit on a marker
// input. Registering the type here lets the model be serialized and sent; only the fixture misbehaves.
import { manualSeed, nn, Tensor } from '../../lib/index.js';

/** Registers (once) a pass-through module type `type` and returns its class. */
export function passThroughLayer(type: string): new () => nn.Module {
  const existing = registered.get(type);
  if (existing) return existing;
  const cls = class extends nn.Module {
    override forward(x: Tensor): Tensor {
      return x;
    }
    override config() { return { type }; }
  };
  nn.registerModuleType(type, () => new cls(), () => []);
  registered.set(type, cls);
  return cls;
}
const registered = new Map<string, new () => nn.Module>();

/** The stall layer's model: StallOn555 (spins in the worker on a batch whose first value is 555) then Linear(4, 3). */
export const STALL_LAYER = new URL('../serve/fixtures/stall-layer.mjs', import.meta.url);
export function stallModel(seed: number): nn.Sequential {
  const Stall = passThroughLayer('StallOn555');
  manualSeed(seed);
  return new nn.Sequential(new Stall(), new nn.Linear(4, 3));
}
/** One row whose first value makes the stall layer spin. */
export const stall = (): Tensor => new Tensor(new Float32Array([555, 0, 0, 0]), [1, 4]);
