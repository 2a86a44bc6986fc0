/**
 * The fathom side of the benchmark, shared by fathom-native.js and fathom-ts.js: the same
 * model, step and inference call, run on one backend or the other (setBackend is global, so
 * the runner calls activate() before each suite).
 */
import * as fathom from '../../dist/index.js';
import { MLP, CNN, cnnLayers } from '../cases.js';

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

/**
 * Builds the bench CNN (cases.CNN) through the public API, nn.Sequential of nn.Conv2d, nn.ReLU,
 * nn.MaxPool2d, nn.Flatten and nn.Linear with seeded PyTorch default initialisation, and its SGD
 * optimizer (lr CNN.lr). Whatever Sequential fuses (Linear + ReLU, maybe Conv2d + ReLU) it fuses here too.
 */
export function makeCnn(seed = 11) {
  const layers = cnnLayers().map((l, i) => {
    const o = { seed: seed + 2 * i };
    switch (l.type) {
      case 'conv': return new nn.Conv2d(l.inShape[0], l.out, l.k, o);
      case 'relu': return new nn.ReLU();
      case 'pool': return new nn.MaxPool2d(l.k);
      case 'flatten': return new nn.Flatten();
      case 'linear': return new nn.Linear(l.inShape[0], l.out, o);
      default: throw new Error(`makeCnn: unknown layer type '${l.type}'`);
    }
  });
  const model = new nn.Sequential(...layers);
  return { model, opt: new optim.SGD(model.parameters(), { lr: CNN.lr }) };
}

/** Wraps cases.fixedImages() as fathom tensors: x [batch, 1, 28, 28], y int32 [batch]. */
export function makeCnnData({ batch, x, y }) {
  return { x: tensor(x, [batch, ...CNN.input]), y: tensor(y, [batch]) };
}
