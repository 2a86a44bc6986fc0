/**
 * The fathom side of the benchmark, shared by fathom-native.js and fathom-ts.js: the same
 * model, step and inference call, run on one backend or the other (setBackend is global, so
 * the runner calls activate() before each suite).
 */
import * as fathom from '../../dist/index.js';
import { MLP } from '../cases.js';

const { tensor, nn, optim, losses } = fathom;

export { fathom };

/** Builds the MLP 784-256-256-10 and its optimizer ('sgd' | 'adam'). */
export function makeMlp(optimizer, seed = 7) {
  const [i, h1, h2, o] = MLP.sizes;
  const model = new nn.Sequential(
    new nn.Linear(i, h1, { init: 'he', seed }), new nn.ReLU(),
    new nn.Linear(h1, h2, { init: 'he', seed: seed + 1 }), new nn.ReLU(),
    new nn.Linear(h2, o, { seed: seed + 2 }),
  );
  const opt = optimizer === 'adam'
    ? new optim.Adam(model.parameters(), { lr: MLP.lr.adam })
    : new optim.SGD(model.parameters(), { lr: MLP.lr.sgd });
  return { model, opt };
}

/** Wraps cases.fixedData() as fathom tensors (outside the timed part). */
export function makeData({ batch, x, y }) {
  return { x: tensor(x, [batch, MLP.sizes[0]]), y: tensor(y, [batch]) };
}

/** One PyTorch-style training step. */
export function trainStep({ model, opt }, { x, y }) {
  const loss = losses.crossEntropy(model.forward(x), y);
  opt.zeroGrad();
  loss.backward();
  opt.step();
  return loss;
}

/** Batched inference, no tape. */
export function infer({ model }, { x }) {
  return model.predict(x);
}
