/**
 * bench/rnn-models.js — the recurrent bench model of issue #11 (cases.RNN) on each target, with
 * one training step and one inference call each:
 *   fathom (native or TS backend: fathom.setBackend is global, call activate first):
 *     nn.LSTM / nn.GRU (batchFirst) → the last step's h → nn.Linear(H, 10); step
 *     `loss = losses.crossEntropy(fc.forward(h), y); opt.zeroGrad(); loss.backward(); opt.step()` (SGD);
 *     inference the same forward under noGrad.
 *   TensorFlow.js: tf.sequential([tf.layers.lstm | gru({ units: H, inputShape: [T, I] }),
 *     tf.layers.dense({ units: 10 })]); step tf.train.sgd(lr).minimize(softmaxCrossEntropy), inference
 *     model.predict(x).dataSync(). tfjs's GRU is Keras's (reset_after false: r applied before the
 *     recurrent product), the same FLOP.
 */
import { RNN } from './cases.js';

/** fathom's model: { rnn, fc, opt, run(x) → logits }. */
export function makeFathomRnn(fathom, mode, seed = 21) {
  const { nn, optim } = fathom;
  const Layer = mode === 'lstm' ? nn.LSTM : nn.GRU;
  const rnn = new Layer(RNN.input, RNN.hidden, { batchFirst: true, seed });
  const fc = new nn.Linear(RNN.hidden, RNN.classes, { seed: seed + 1 });
  const opt = new optim.SGD([...rnn.parameters(), ...fc.parameters()], { lr: RNN.lr });
  const run = (x) => fc.forward(fathom.reshape(rnn.forwardWithState(x).h, [x.shape[0], RNN.hidden]));
  return { rnn, fc, opt, run };
}
/** cases.fixedSequences() as fathom tensors: x [batch, T, I], y int32 [batch]. */
export function makeFathomSeqData(fathom, { batch, x, y }) {
  return { x: fathom.tensor(x, [batch, RNN.steps, RNN.input]), y: fathom.tensor(y, [batch]) };
}
export function fathomRnnStep(fathom, m, { x, y }) {
  const loss = fathom.losses.crossEntropy(m.run(x), y);
  m.opt.zeroGrad();
  loss.backward();
  m.opt.step();
  return loss;
}
export function fathomRnnInfer(fathom, m, { x }) {
  return fathom.noGrad(() => m.run(x));
}

/** tfjs's model: { model, opt, vars }. */
export function makeTfRnn(tf, mode, seed = 21) {
  const cfg = { units: RNN.hidden, inputShape: [RNN.steps, RNN.input], kernelInitializer: tf.initializers.glorotUniform({ seed }),
    recurrentInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }) }; // tfjs's default orthogonal one takes seconds at this size
  const model = tf.sequential({
    layers: [mode === 'lstm' ? tf.layers.lstm(cfg) : tf.layers.gru(cfg), tf.layers.dense({ units: RNN.classes, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) })],
  });
  const opt = tf.train.sgd(RNN.lr);
  return { model, opt, vars: model.trainableWeights.map((w) => w.read()) };
}
export function makeTfSeqData(tf, { batch, x, y }) {
  return { x: tf.tensor3d(x, [batch, RNN.steps, RNN.input]), y: tf.oneHot(tf.tensor1d(y, 'int32'), RNN.classes).toFloat() };
}
export function tfRnnStep(tf, { model, opt, vars }, { x, y }) {
  tf.tidy(() => {
    opt.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), false, vars);
  });
}
export function tfRnnInfer(tf, { model }, { x }) {
  const out = model.predict(x);
  out.dataSync();
  out.dispose();
}
