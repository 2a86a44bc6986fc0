// A small classification task and the MLP that learns it, for the training tests (fit, fitInWorker).
import { manualSeed, nn, Tensor } from '../../lib/index.js';

/** 96 rows of 4 features (x [96, 4]) and 3 classes (y [96] int32) that an MLP learns. */
export function data(): { x: Tensor; y: Tensor } {
  const n = 96;
  const x = new Float32Array(n * 4);
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < 4; j++) x[i * 4 + j] = Math.sin(1.3 * i + 0.7 * j * j + j);
    y[i] = (x[i * 4] + 0.5 * x[i * 4 + 1] > 0.3 ? 1 : 0) + (x[i * 4 + 2] > 0.5 ? 1 : 0);
  }
  return { x: new Tensor(x, [n, 4]), y: new Tensor(y, [n]) };
}

/** 4-16-3 MLP (Tanh), seeded 3. */
export function mlp(): nn.Sequential {
  manualSeed(3);
  return new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new nn.Linear(16, 3));
}
