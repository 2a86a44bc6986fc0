/**
 * fathom: deep learning for Node.js.
 *
 * Tensors live in JS-owned typed arrays; every op runs on the selected
 * backend (the native addon, or the pure-TypeScript reference).
 */
import { createRequire } from 'node:module';
import { MAX_THREADS, backend, nativeBinding, nativeInfo, nativeLoadError, type BackendName } from './backend/index.js';

export { Tensor } from './tensor/tensor.js';
export type { DType, NestedArray, TensorData } from './tensor/tensor.js';
export type { Shape } from './tensor/shape.js';
export {
  tensor, full, zeros, ones, rand, randn, manualSeed,
  neg, exp, log, sqrt, abs, square, relu, sigmoid, tanh, sign, pow,
  leakyRelu, elu, gelu, softplus, silu, maxout,
  add, sub, mul, div, maximum, minimum, equal,
  matmul, transpose, reshape, slice, linear,
  sum, mean, max,
  softmax, logSoftmax, softmaxCrossEntropy, mseLoss, argmax,
} from './ops/index.js';
export { dropout } from './ops/index.js';
// --- #11 tensor ops ---
export {
  permute, squeeze, unsqueeze, expand, flip, narrow, concat, stack, split, chunk,
  index, gather, oneHot, where, clamp, cumsum, min, argmin,
  eq, ne, lt, le, gt, ge, floorDivide, remainder,
} from './ops/index.js';
// --- end #11 tensor ops ---
// --- #11 cells ---
export { rnnSequence, lstmCell, gruCell, rnnCell, rnnGates } from './ops/index.js';
export type { RnnMode, RnnSequenceOptions, RnnSequenceResult } from './ops/index.js';
// --- end #11 cells ---
// --- #11 rnn ---
export { embedding, type EmbeddingOptions } from './ops/index.js';
// --- end #11 rnn ---
// --- #11 seqcli ---
// Registers the module type 'RecurrentNet' (the networks of fathom train --dataset names|spam|smnist), so load() reads their saved files.
import './cli/seqmodels.js';
// --- end #11 seqcli ---
// normalisation
export { batchNorm, layerNorm, type BatchNormOptions, type LayerNormOptions } from './ops/index.js';
// conv
export { conv1d, conv2d, convTranspose2d } from './ops/index.js';
export type { Conv1dOptions, Conv2dOptions, ConvTranspose2dOptions, ConvSize } from './ops/index.js';
// pooling
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, flatten } from './ops/index.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from './ops/index.js';
export type { TensorInput, TensorOptions, RandomOptions, UniformOptions, NormalOptions, MatmulOptions } from './ops/index.js';
export type { GeluOptions } from './ops/index.js';
export type { SgdConfig, AdamConfig } from './optimizers/index.js';
export type { AdagradConfig, RmspropConfig, AdadeltaConfig, AdamaxConfig, ParamGroup, OptimizerStateDict } from './optimizers/index.js';
export { noGrad, isGradEnabled, setGradEnabled } from './autograd/tape.js';
export { gradients } from './autograd/gradients.js';
export { setBackend, backend } from './backend/index.js';
export type { Backend } from './backend/backend.js';
export * as nn from './layers/index.js';
export * as optim from './optimizers/index.js';
export * as losses from './losses/index.js';
// magnitude pruning (torch.nn.utils.prune): prune.magnitude, prune.sparsity, prune.remove
export * as prune from './prune/index.js';
export type { MagnitudeOptions, PruneInclude, SparsityReport, LayerSparsity } from './prune/index.js';
// --- #12 pretrain ---
// greedy layer-wise pre-training (autoencoders, RBMs): pretrain.layerwise
export * as pretrain from './pretrain/index.js';
export type { LayerwiseOptions, LayerwiseResult, LayerReport, PretrainMethod } from './pretrain/index.js';
// --- end #12 pretrain ---
export * as data from './data/index.js';
export { save, load, loadOptimizerState, loadCheckpoint, type SaveOptions } from './io/model.js';
export type { FilePath, FileURLLike } from './io/paths.js';
// plain state dicts (PyTorch's safetensors files): io helper, issue #10
export { readStateDict, writeStateDict } from './io/state.js';
export type { FitOptions, EvaluateOptions, PredictOptions, History, Logs, Callbacks, EvalResult } from './models/training.js';
// training: callbacks, metrics and the types fit's new options use.
export * as callbacks from './models/callbacks.js';
export * as metrics from './models/metrics.js';
export type { FitContext, BatchLogs, LRSchedulerLike } from './models/training.js';
export type { ProgressSink, ProgressStream } from './models/progress.js';
// --- #12 multifit ---
// models with several inputs or outputs: fit, evaluate and predict take lists or name-keyed objects
export { isMultiIO, type MultiIOModule, type Tensors, type PerOutput } from './models/multi.js';
export type { LossOption, MetricsOption } from './models/training.js';
// --- end #12 multifit ---
// --- #13 worker ---
// models as bytes (safetensors + architecture, as save/load) and training in a worker thread
export { serialize, deserialize, type SerializeOptions } from './io/serialize.js';
export { fitInWorker, shareMemory, isShared, WORKER_SCHEDULERS } from './serve/index.js';
export type { AbortSignalLike, FitInWorkerOptions, FitInWorkerResult, LRSchedulerSpec, LRSchedulerType, WorkerBatchLogs, WorkerMetricSpec } from './serve/index.js';
// --- end #13 worker ---
// --- #13 batching ---
// inference off the JS thread (a worker pool holding a snapshot of the model) and dynamic batching
export * as serve from './serve/index.js';
export { predictAsync } from './serve/index.js';
// --- end #13 batching ---
// --- #13 api ---
// model.predictAsync (lib/serve/snapshot.ts): its options type; serve.closeWorkers ends the idle workers
export type { PredictAsyncOptions } from './serve/index.js';
// fitInWorker resumes: the in-memory twin of loadCheckpoint (a model and its optimizer from serialize(model, { optimizer }))
export { deserializeCheckpoint } from './io/serialize.js';
// --- end #13 api ---

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

export interface FathomInfo {
  /** The backend ops run on. */
  backend: BackendName;
  /** The kernel variant in use: scalar, avx2, avx512 or neon ('ts' on the TS backend). */
  isa: string;
  /** Threads the native kernels use (1 on the TS backend). */
  threads: number;
  version: string;
  /** Why the native addon is not in use, when it is not. */
  nativeError?: string;
}

export function info(): FathomInfo {
  const b = backend().name;
  if (b === 'native') {
    const n = nativeInfo()!;
    return { backend: b, isa: n.isa, threads: n.threads, version: pkg.version };
  }
  const err = nativeLoadError();
  return { backend: b, isa: 'ts', threads: 1, version: pkg.version, ...(err ? { nativeError: err } : {}) };
}

/**
 * Sets the number of threads the native kernels use and returns the number in
 * effect: at most the pool's size, fixed when the pool starts (FATHOM_NUM_THREADS,
 * else the core count), so on a 2-core machine setNumThreads(8) returns 2.
 * Always 1 on the TS backend.
 * @throws unless n is an integer in [1, 256].
 */
export function setNumThreads(n: number): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_THREADS) {
    throw new Error(`fathom.setNumThreads: n must be an integer in [1, ${MAX_THREADS}], got ${typeof n === 'number' ? n : typeof n}`);
  }
  const b = nativeBinding();
  return b ? b.setNumThreads(n) : 1;
}

export type { BackendName };
