// Compiled against the published declarations (dist/index.d.ts) by test/types.test.ts:
// what a TypeScript user of the package may and may not write.
import { data, info, load, loadCheckpoint, loadOptimizerState, losses, matmul, nn, noGrad, optim, rand, save, tensor, type Tensor } from 'fathom';

const x: Tensor = rand([4, 3], { seed: 1 });
const w = tensor([[1, 2], [3, 4], [5, 6]]);
const y: Tensor = matmul(x, w).relu().sum(1, true);
const shape: readonly number[] = y.shape;
const n: number = y.data.length + shape.length;

const model = new nn.Sequential(new nn.Linear(3, 8, { init: 'he' }), new nn.ReLU(), new nn.Linear(8, 2));
const opt = new optim.Adam(model.parameters(), { lr: 1e-3, betas: [0.9, 0.999] });
const loss: Tensor = losses.crossEntropy(model.forward(x), tensor(new Int32Array([0, 1, 0, 1])));
opt.zeroGrad();
loss.backward();
opt.step();
const probs: Tensor = noGrad(() => model.predict(x).softmax());
const backendName: 'native' | 'ts' = info().backend;

// The option types of every public entry point are importable (issue 8 §7).
import type { EvaluateOptions, FitOptions, PredictOptions, ProgressSink, TensorOptions } from 'fathom';
const fitOpts: FitOptions = { loss: 'crossEntropy', epochs: 1, callbacks: [{ onEpochEnd: () => false }] };
const evalOpts: EvaluateOptions = { batchSize: 64 };
const predOpts: PredictOptions = { batchSize: 64 };
const tOpts: TensorOptions = { dtype: 'int32' };
const labels: Tensor = tensor([0, 1], tOpts);
const sink: ProgressSink | undefined = fitOpts.progress;
const rows: number[][] = model.predict(x, predOpts).toArray<number[][]>();

async function main(): Promise<number> {
  const ds = await data.mnist({ train: 10 });
  const h = await model.fit(ds.train.x, ds.train.y, { loss: 'crossEntropy', optimizer: opt, epochs: 1 });
  const r = await model.evaluate(ds.test.x, ds.test.y);
  await save(model, 'm.safetensors');
  const again: nn.Module = await load('m.safetensors');
  return h.history.loss[0] + (r.accuracy ?? 0) + again.parameters().length + probs.size + n + backendName.length;
}
void main;

// @ts-expect-error matmul takes tensors, not arrays
matmul([1, 2], w);
// @ts-expect-error unknown loss name
void model.fit(x, y, { loss: 'hinge-ish', optimizer: 'sgd' });
// @ts-expect-error optimizers need a parameter list
new optim.SGD();
// @ts-expect-error the shape is read-only
y.shape.push(1);
// @ts-expect-error a path is a string or a file: URL, not a number
void save(model, 42);

// Parameter groups, the stateful optimizers and checkpoints.
const decay = model.parameters().filter((p) => p.shape.length === 2);
const noDecay = model.parameters().filter((p) => p.shape.length === 1);
const grouped = new optim.AdamW([{ params: decay }, { params: noDecay, weightDecay: 0 }], { lr: 1e-3, amsgrad: true });
const g0: optim.ParamGroup = grouped.paramGroups[0];
g0.lr = 0.5 * g0.lr;
const others: optim.Optimizer[] = [
  new optim.Adagrad(model.parameters(), { lrDecay: 0.01 }), new optim.RMSprop(model.parameters(), { centered: true, momentum: 0.9 }),
  new optim.Adadelta(model.parameters()), new optim.Adamax(model.parameters(), { betas: [0.9, 0.999] }),
];
const sd: optim.OptimizerStateDict = grouped.stateDict();
grouped.loadStateDict(sd);
async function resume(): Promise<number> {
  await save(model, 'ckpt.safetensors', { optimizer: grouped });
  const { model: m2, optimizer } = await loadCheckpoint('ckpt.safetensors');
  if (optimizer) await loadOptimizerState('ckpt.safetensors', optimizer);
  return m2.parameters().length + others.length;
}
void resume;
// @ts-expect-error unknown hyper-parameter in a config
new optim.RMSprop(model.parameters(), { beta: 0.9 });

// ---- plain state dicts (io helper, issue #10): a PyTorch safetensors file into a model built in code
import { readStateDict, writeStateDict } from 'fathom';
async function fromPyTorch(): Promise<void> {
  const dict: Record<string, Tensor> = await readStateDict('cnn.safetensors');
  model.loadStateDict(dict);
  await writeStateDict(model, 'out.safetensors');
  await writeStateDict(dict, 'out2.safetensors', { format: 'pt' });
  // @ts-expect-error metadata values are strings
  await writeStateDict(model, 'out.safetensors', { epoch: 3 });
}
void fromPyTorch;

// ---- issue #12: the functional API, multi-input/-output fit, pre-training
import { pretrain, type MultiIOModule } from 'fathom';
const left = nn.input([784], { name: 'left' });
const right = nn.input([784], { name: 'right' });
const enc = new nn.Sequential(new nn.Linear(784, 64), new nn.ReLU());
const joined = new nn.Concatenate().apply([enc.apply(left), enc.apply(right)]);
const pair = new nn.Model({ inputs: [left, right], outputs: [new nn.Linear(128, 10).apply(joined, { name: 'digit' }), new nn.Linear(128, 1).apply(joined, { name: 'sum' })] });
const io: MultiIOModule = pair;
enc.trainable = false;
const summary: string = pair.summary();
async function twoHeads(a: Tensor, b: Tensor, d: Tensor, s: Tensor): Promise<number> {
  const h = await pair.fit({ left: a, right: b }, [d, s], { loss: { digit: 'crossEntropy', sum: 'mse' }, lossWeights: { sum: 0.1 }, epochs: 1 });
  const outs = pair.predict([a, b]);
  const one: Tensor = new nn.Linear(784, 10).predict(a);
  const { encoder, reports } = await pretrain.layerwise([new nn.Linear(784, 64)], a, { method: 'rbm', epochs: 1 });
  return h.history.loss.length + (Array.isArray(outs) ? outs.length : 1) + one.size + reports.length + encoder.parameters().length;
}
void io; void summary; void twoHeads;
// @ts-expect-error apply takes symbolic tensors (or Tensors), not numbers
enc.apply(3);

// ---- issue #13: training and inference off the JS thread
import { fitInWorker, serialize, deserialize, serve, predictAsync, Tensor as TensorClass } from 'fathom';
async function offThread(x: Tensor, y: Tensor): Promise<number> {
  const { model: trained, history, aborted } = await fitInWorker(model, x, y, { loss: 'crossEntropy', epochs: 1, onEpochEnd: (epoch, logs) => void [epoch, logs.loss] });
  const bytes: Uint8Array = serialize(trained);
  const back = deserialize(bytes);
  const bp = new serve.BatchingPredictor(back, { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 1024, workers: 2, threads: 1, timeoutMs: 5000 });
  serve.setMaxPredictWorkers(2);
  const row: Tensor = await bp.predict(x);
  const stats = bp.stats();
  await bp.close();
  const once: Tensor = await predictAsync(back, x);
  return history.history.loss.length + (aborted ? 1 : 0) + row.size + stats.queueDepth + once.size + serve.getMaxPredictWorkers() + TensorClass.from(x).size;
}
void offThread;
// @ts-expect-error functions cannot cross threads: fitInWorker's loss is a name
void fitInWorker(model, tensor([1]), tensor([1]), { loss: (p: Tensor) => p });
