/**
 * Rebuilds modules from their config() (used when loading a saved model),
 * and predicts, from a config alone, the parameters a module would have.
 *
 * Each type has a factory and, for the built-in ones, a shape function:
 * `parameterShapes(config)` walks the config tree and returns every
 * parameter's qualified name and shape without allocating any tensor, so
 * load() can compare a file's architecture with the tensors it really holds
 * BEFORE building the model (a 200-byte file declaring a 16384×16384 layer
 * is refused before a 1 GiB weight is allocated and initialised).
 */
import { Module, type ModuleConfig } from './module.js';
import { Linear, checkRegularizer, type Init, type Regularizer } from './linear.js';
import { LogSoftmax, ReLU, Sigmoid, Sign, Softmax, Tanh } from './activations.js';
import { ELU, GELU, LeakyReLU, Maxout, SiLU, Softplus } from './activations.js';
import { Sequential } from './sequential.js';
// perceptron and noise layers
import { Perceptron } from './perceptron.js';
import { Dropout, GaussianNoise } from './noise.js';
// normalisation layers
import { BatchNorm1d, BatchNorm2d, LayerNorm } from './norm.js';
import { normalizedShapeOf } from '../ops/norm.js';
// pooling layers
import { AdaptiveAvgPool2d, AvgPool2d, Dropout2d, Flatten, MaxPool2d } from './pool.js';
import { Conv1d, Conv2d, ConvTranspose2d, type ConvLayerOptions } from './conv.js';
// --- #11 rnn ---
import { Embedding } from './embedding.js';
import { RBM } from './rbm.js';
import { GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell, cellParameterShapes, checkRecurrentSize, rnnParameterShapes, type Nonlinearity, type RNNOptions } from './rnn.js';
// --- end #11 rnn ---
// --- #12 ae ---
import { MaskingNoise } from './noise.js';
import { ActivityRegularization, KLSparsity } from './activity.js';
// --- end #12 ae ---
// --- #12 graph ---
import { Add, Average, Concatenate, Multiply } from './graph/merge.js';
import { modelFromConfig, modelParameterShapes } from './graph/config.js';
// --- end #12 graph ---

type Factory = (c: ModuleConfig) => Module;
/**
 * [name, shape] of each of a module's parameters and buffers, in stateDict()
 * (namedState()) order; a third entry 'I32' marks an int32 buffer
 * (num_batches_tracked), F32 otherwise; null if unknown.
 */
export type ParameterShapes = [string, number[], ('F32' | 'I32')?][];
type ShapeFn = (c: ModuleConfig) => ParameterShapes | null;

const factories = new Map<string, Factory>([
  ['Linear', (c) => new Linear(num(c, 'inFeatures'), num(c, 'outFeatures'), {
    bias: flag(c, 'bias', true), init: (c.init as Init) ?? 'glorot',
    // training: L1/L2 regularizers (checked again by the constructor; named here as the file's keys).
    weightRegularizer: checkRegularizer('fromConfig', 'Linear.weightRegularizer', c.weightRegularizer) as Regularizer | undefined,
    biasRegularizer: checkRegularizer('fromConfig', 'Linear.biasRegularizer', c.biasRegularizer) as Regularizer | undefined,
  })],
  ['ReLU', () => new ReLU()],
  ['Sigmoid', () => new Sigmoid()],
  ['Tanh', () => new Tanh()],
  ['Sign', () => new Sign()],
  ['Softmax', () => new Softmax()],
  ['LogSoftmax', () => new LogSoftmax()],
  ['Sequential', (c) => nested(() => new Sequential(...layersOf(c).map(fromConfig)))],
  ['LeakyReLU', (c) => new LeakyReLU(real(c, 'negativeSlope', 0.01))],
  ['ELU', (c) => new ELU(real(c, 'alpha', 1))],
  ['GELU', (c) => new GELU({ approximate: (c.approximate as 'none' | 'tanh' | undefined) ?? 'none' })],
  ['Softplus', (c) => new Softplus({ beta: real(c, 'beta', 1), threshold: real(c, 'threshold', 20) })],
  ['SiLU', () => new SiLU()],
  ['Maxout', (c) => new Maxout(num(c, 'inFeatures'), num(c, 'units'), num(c, 'pieces'), { bias: flag(c, 'bias', true), init: (c.init as Init) ?? 'glorot' })],
  ['Perceptron', (c) => new Perceptron(num(c, 'inFeatures'))],
  ['Dropout', (c) => new Dropout(inRange(c, 'p', 0, 1))],
  ['GaussianNoise', (c) => new GaussianNoise(inRange(c, 'std', 0, 1e37))],
  // normalisation layers
  ['BatchNorm1d', (c) => new BatchNorm1d(num(c, 'numFeatures'), batchNormOptions(c))],
  ['BatchNorm2d', (c) => new BatchNorm2d(num(c, 'numFeatures'), batchNormOptions(c))],
  ['LayerNorm', (c) => new LayerNorm(normalizedShapeOf('fromConfig', c.normalizedShape), { eps: real(c, 'eps', 1e-5), elementwiseAffine: flag(c, 'elementwiseAffine', true) })],
  // pooling layers: the constructors check every value
  ['MaxPool2d', (c) => new MaxPool2d(c.kernelSize as number, { stride: c.stride as number, padding: c.padding as number, dilation: c.dilation as number, ceilMode: c.ceilMode as boolean })],
  ['AvgPool2d', (c) => new AvgPool2d(c.kernelSize as number, {
    stride: c.stride as number, padding: c.padding as number, ceilMode: c.ceilMode as boolean,
    countIncludePad: c.countIncludePad as boolean, divisorOverride: c.divisorOverride as number,
  })],
  ['AdaptiveAvgPool2d', (c) => new AdaptiveAvgPool2d(c.outputSize as number)],
  ['Flatten', (c) => new Flatten((c.startDim as number) ?? 1, (c.endDim as number) ?? -1)],
  ['Dropout2d', (c) => new Dropout2d(inRange(c, 'p', 0, 1))],
  // convolution layers: the constructors check every value
  ['Conv1d', (c) => new Conv1d(num(c, 'inChannels'), num(c, 'outChannels'), c.kernelSize as number, convOptions(c))],
  ['Conv2d', (c) => new Conv2d(num(c, 'inChannels'), num(c, 'outChannels'), c.kernelSize as number, convOptions(c))],
  ['ConvTranspose2d', (c) => new ConvTranspose2d(num(c, 'inChannels'), num(c, 'outChannels'), c.kernelSize as number, { ...convOptions(c), padding: c.padding as number, outputPadding: c.outputPadding as number })],
]);

// --- #11 rnn ---
/** A recurrent layer's options from its config (values checked by the constructor). */
function rnnOptions(c: ModuleConfig): RNNOptions {
  return {
    numLayers: c.numLayers === undefined ? 1 : num(c, 'numLayers'), bias: flag(c, 'bias', true), batchFirst: flag(c, 'batchFirst', false),
    dropout: inRange({ ...c, dropout: c.dropout ?? 0 } as ModuleConfig, 'dropout', 0, 1), bidirectional: flag(c, 'bidirectional', false),
  };
}
const nonlinearity = (c: ModuleConfig): Nonlinearity => c.nonlinearity as Nonlinearity;
const paddingIdx = (c: ModuleConfig): number | null => (c.paddingIdx === undefined || c.paddingIdx === null ? null : c.paddingIdx as number);
factories.set('RNN', (c) => new RNN(num(c, 'inputSize'), num(c, 'hiddenSize'), { ...rnnOptions(c), nonlinearity: nonlinearity(c) }));
factories.set('LSTM', (c) => new LSTM(num(c, 'inputSize'), num(c, 'hiddenSize'), rnnOptions(c)));
factories.set('GRU', (c) => new GRU(num(c, 'inputSize'), num(c, 'hiddenSize'), rnnOptions(c)));
factories.set('RNNCell', (c) => new RNNCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: flag(c, 'bias', true), nonlinearity: nonlinearity(c) }));
factories.set('LSTMCell', (c) => new LSTMCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: flag(c, 'bias', true) }));
factories.set('GRUCell', (c) => new GRUCell(num(c, 'inputSize'), num(c, 'hiddenSize'), { bias: flag(c, 'bias', true) }));
factories.set('Embedding', (c) => new Embedding(num(c, 'numEmbeddings'), num(c, 'embeddingDim'), { paddingIdx: paddingIdx(c) }));
factories.set('RBM', (c) => new RBM(num(c, 'visible'), num(c, 'hidden')));
/** [name, shape] of a recurrent layer's parameters from its config, without building it. */
const RNN_GATES: Record<string, number> = { RNN: 1, LSTM: 4, GRU: 3, RNNCell: 1, LSTMCell: 4, GRUCell: 3 };
function recurrentShapes(c: ModuleConfig): ParameterShapes {
  const g = RNN_GATES[c.type];
  if (c.type.endsWith('Cell')) return cellParameterShapes(g, num(c, 'inputSize'), num(c, 'hiddenSize'), flag(c, 'bias', true));
  const o = rnnOptions(c);
  checkRecurrentSize(`fromConfig: ${c.type}`, g, num(c, 'inputSize'), num(c, 'hiddenSize'), o.numLayers!, o.bias!, o.bidirectional!);
  return rnnParameterShapes(g, num(c, 'inputSize'), num(c, 'hiddenSize'), o.numLayers!, o.bias!, o.bidirectional!);
}
// --- end #11 rnn ---
// --- #12 ae ---
// (the constructors check the values again and name the layer)
factories.set('MaskingNoise', (c) => new MaskingNoise(inRange(c, 'p', 0, 1)));
factories.set('ActivityRegularization', (c) => new ActivityRegularization({ l1: real(c, 'l1', 0), l2: real(c, 'l2', 0) }));
factories.set('KLSparsity', (c) => new KLSparsity({ rho: real(c, 'rho', 0.05), beta: real(c, 'beta', 3), eps: real(c, 'eps', 1e-6) }));
// --- end #12 ae ---

// --- #12 graph ---
// nn.Model (nested models share the Sequential nesting limit) and the merge layers.
factories.set('Model', (c) => nested(() => modelFromConfig(c, fromConfig)));
factories.set('Concatenate', (c) => new Concatenate(c.axis === undefined ? -1 : c.axis as number));
factories.set('Add', () => new Add());
factories.set('Multiply', () => new Multiply());
factories.set('Average', () => new Average());
// --- end #12 graph ---

/** A convolution layer's options from its config (values checked by the constructor). */
function convOptions(c: ModuleConfig): ConvLayerOptions {
  return { stride: c.stride as number, padding: c.padding as number, dilation: c.dilation as number, groups: c.groups as number, bias: flag(c, 'bias', true) };
}

/** A convolution's weight and bias shapes from its config, without building it. */
function convShapes(c: ModuleConfig, transposed: boolean): ParameterShapes {
  const inC = num(c, 'inChannels'), outC = num(c, 'outChannels');
  const groups = c.groups === undefined ? 1 : num(c, 'groups');
  const ks = (Array.isArray(c.kernelSize) ? c.kernelSize : [c.kernelSize]) as unknown[];
  const k = ks.map((v) => num({ ...c, kernelSize: v } as ModuleConfig, 'kernelSize'));
  const kernel = c.type === 'Conv1d' ? k.slice(0, 1) : k.length === 1 ? [k[0], k[0]] : k;
  if (inC % groups || outC % groups) throw new Error(`fathom.fromConfig: ${c.type}.groups (${groups}) must divide inChannels (${inC}) and outChannels (${outC})`);
  const w = transposed ? [inC, outC / groups, ...kernel] : [outC, inC / groups, ...kernel];
  return flag(c, 'bias', true) ? [['weight', w], ['bias', [outC]]] : [['weight', w]];
}

/** Types fathom defines: registerModuleType refuses to replace them. */
const BUILT_IN: ReadonlySet<string> = new Set(factories.keys());

const noParameters: ShapeFn = () => [];

const shapeFns = new Map<string, ShapeFn>([
  ['Linear', (c) => {
    const inF = num(c, 'inFeatures');
    const outF = num(c, 'outFeatures');
    return flag(c, 'bias', true) ? [['weight', [outF, inF]], ['bias', [outF]]] : [['weight', [outF, inF]]];
  }],
  ['ReLU', noParameters],
  ['Sigmoid', noParameters],
  ['Tanh', noParameters],
  ['Sign', noParameters],
  ['Softmax', noParameters],
  ['LogSoftmax', noParameters],
  ['LeakyReLU', noParameters],
  ['ELU', noParameters],
  ['GELU', noParameters],
  ['Softplus', noParameters],
  ['SiLU', noParameters],
  ['Maxout', (c) => {
    const inF = num(c, 'inFeatures');
    const out = num(c, 'units') * num(c, 'pieces');
    return flag(c, 'bias', true) ? [['linear.weight', [out, inF]], ['linear.bias', [out]]] : [['linear.weight', [out, inF]]];
  }],
  ['Perceptron', (c) => [['weight', [1, num(c, 'inFeatures')]], ['bias', [1]]]],
  ['Dropout', noParameters],
  ['GaussianNoise', noParameters],
  // normalisation layers: parameters, then the buffers (int32 num_batches_tracked)
  ['BatchNorm1d', (c) => batchNormShapes(c)],
  ['BatchNorm2d', (c) => batchNormShapes(c)],
  ['LayerNorm', (c) => {
    const shape = normalizedShapeOf('fromConfig', c.normalizedShape);
    return flag(c, 'elementwiseAffine', true) ? [['weight', shape], ['bias', [...shape]]] : [];
  }],
  // pooling layers
  ['MaxPool2d', noParameters],
  ['AvgPool2d', noParameters],
  ['AdaptiveAvgPool2d', noParameters],
  ['Flatten', noParameters],
  ['Dropout2d', noParameters],
  ['Conv1d', (c) => convShapes(c, false)],
  ['Conv2d', (c) => convShapes(c, false)],
  ['ConvTranspose2d', (c) => convShapes(c, true)],
  ['Sequential', (c) => nested(() => {
    const out: ParameterShapes = [];
    for (const [i, layer] of layersOf(c).entries()) {
      const inner = parameterShapes(layer);
      if (inner === null) return null;
      for (const [name, shape, dtype] of inner) out.push(dtype ? [`${i}.${name}`, shape, dtype] : [`${i}.${name}`, shape]);
    }
    return out;
  })],
]);
// --- #11 rnn ---
for (const type of Object.keys(RNN_GATES)) shapeFns.set(type, recurrentShapes);
shapeFns.set('Embedding', (c) => [['weight', [num(c, 'numEmbeddings'), num(c, 'embeddingDim')]]]);
shapeFns.set('RBM', (c) => [['weight', [num(c, 'hidden'), num(c, 'visible')]], ['visible_bias', [num(c, 'visible')]], ['hidden_bias', [num(c, 'hidden')]]]);
// --- end #11 rnn ---
// --- #12 ae ---
for (const type of ['MaskingNoise', 'ActivityRegularization', 'KLSparsity']) shapeFns.set(type, noParameters);
// --- end #12 ae ---
// --- #12 graph ---
shapeFns.set('Model', (c) => nested(() => modelParameterShapes(c, parameterShapes)));
for (const t of ['Concatenate', 'Add', 'Multiply', 'Average']) shapeFns.set(t, noParameters);
// --- end #12 graph ---

// ---- normalisation layers ----
function batchNormOptions(c: ModuleConfig): { eps: number; momentum: number | null; affine: boolean; trackRunningStats: boolean } {
  return {
    eps: real(c, 'eps', 1e-5),
    momentum: c.momentum === null ? null : real(c, 'momentum', 0.1),
    affine: flag(c, 'affine', true),
    trackRunningStats: flag(c, 'trackRunningStats', true),
  };
}
function batchNormShapes(c: ModuleConfig): ParameterShapes {
  const n = num(c, 'numFeatures');
  const out: ParameterShapes = [];
  if (flag(c, 'affine', true)) out.push(['weight', [n]], ['bias', [n]]);
  if (flag(c, 'trackRunningStats', true)) out.push(['running_mean', [n]], ['running_var', [n]], ['num_batches_tracked', [], 'I32']);
  return out;
}
// ---- end normalisation ----

/** A Sequential's layer configs; at most MAX_LAYERS (a hostile file's 10⁷-entry array would overflow the stack). */
const MAX_LAYERS = 100_000;
/** The deepest nesting of Sequentials a config may hold (a hostile file's 10⁵-deep nest would overflow the stack). */
const MAX_NESTING = 64;
let depth = 0;
function nested<T>(f: () => T): T {
  if (depth >= MAX_NESTING) throw new Error(`fathom.fromConfig: Sequentials nested more than ${MAX_NESTING} deep; at most ${MAX_NESTING}`);
  depth++;
  try {
    return f();
  } finally {
    depth--;
  }
}
function layersOf(c: ModuleConfig): ModuleConfig[] {
  if (!Array.isArray(c.layers)) throw new Error('fathom.fromConfig: Sequential config needs a layers array');
  if (c.layers.length > MAX_LAYERS) throw new Error(`fathom.fromConfig: a Sequential of ${c.layers.length} layers; at most ${MAX_LAYERS}`);
  return c.layers as ModuleConfig[];
}

function flag(c: ModuleConfig, key: string, dflt: boolean): boolean {
  const v = c[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new Error(`fathom.fromConfig: ${c.type}.${key} must be a boolean, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** A finite number (a layer's scalar hyper-parameter), `dflt` when absent. */
function real(c: ModuleConfig, key: string, dflt: number): number {
  const v = c[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new Error(`fathom.fromConfig: ${c.type}.${key} must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

function num(c: ModuleConfig, key: string): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
    throw new Error(`fathom.fromConfig: ${c.type}.${key} must be a positive integer, got ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** A number in [lo, hi] (Dropout.p, GaussianNoise.std). */
function inRange(c: ModuleConfig, key: string, lo: number, hi: number): number {
  const v = c[key];
  if (typeof v !== 'number' || !(v >= lo && v <= hi)) {
    throw new Error(`fathom.fromConfig: ${c.type}.${key} must be a number in [${lo}, ${hi}], got ${typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v)}`);
  }
  return v;
}

/** The keys each built-in type's config may hold: anything else (a typo, a hostile file) is refused. */
const KEYS: Record<string, readonly string[]> = {
  Linear: ['type', 'inFeatures', 'outFeatures', 'bias', 'init', 'weightRegularizer', 'biasRegularizer'],
  Sequential: ['type', 'layers'],
  LeakyReLU: ['type', 'negativeSlope'],
  ELU: ['type', 'alpha'],
  GELU: ['type', 'approximate'],
  Softplus: ['type', 'beta', 'threshold'],
  Maxout: ['type', 'inFeatures', 'units', 'pieces', 'bias', 'init'],
  Perceptron: ['type', 'inFeatures'],
  Dropout: ['type', 'p'],
  GaussianNoise: ['type', 'std'],
  // normalisation layers
  BatchNorm1d: ['type', 'numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats'],
  BatchNorm2d: ['type', 'numFeatures', 'eps', 'momentum', 'affine', 'trackRunningStats'],
  LayerNorm: ['type', 'normalizedShape', 'eps', 'elementwiseAffine'],
  // pooling layers
  MaxPool2d: ['type', 'kernelSize', 'stride', 'padding', 'dilation', 'ceilMode'],
  AvgPool2d: ['type', 'kernelSize', 'stride', 'padding', 'ceilMode', 'countIncludePad', 'divisorOverride'],
  AdaptiveAvgPool2d: ['type', 'outputSize'],
  Flatten: ['type', 'startDim', 'endDim'],
  Dropout2d: ['type', 'p'],
  Conv1d: ['type', 'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias'],
  Conv2d: ['type', 'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'dilation', 'groups', 'bias'],
  ConvTranspose2d: ['type', 'inChannels', 'outChannels', 'kernelSize', 'stride', 'padding', 'outputPadding', 'dilation', 'groups', 'bias'],
};
// --- #11 rnn ---
for (const t of ['LSTM', 'GRU']) KEYS[t] = ['type', 'inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'dropout', 'bidirectional'];
KEYS.RNN = [...KEYS.LSTM, 'nonlinearity'];
for (const t of ['LSTMCell', 'GRUCell']) KEYS[t] = ['type', 'inputSize', 'hiddenSize', 'bias'];
KEYS.RNNCell = [...KEYS.LSTMCell, 'nonlinearity'];
KEYS.Embedding = ['type', 'numEmbeddings', 'embeddingDim', 'paddingIdx'];
KEYS.RBM = ['type', 'visible', 'hidden'];
// --- end #11 rnn ---
// --- #12 ae ---
KEYS.MaskingNoise = ['type', 'p'];
KEYS.ActivityRegularization = ['type', 'l1', 'l2'];
KEYS.KLSparsity = ['type', 'rho', 'beta', 'eps'];
// --- end #12 ae ---
// --- #12 graph ---
KEYS.Concatenate = ['type', 'axis'];
// Model's keys are checked by graph/config.ts (with the rest of its structure).
KEYS.Model = ['type', 'name', 'inputs', 'layers', 'nodes', 'outputs'];
// --- end #12 graph ---

function checkKeys(c: ModuleConfig): void {
  const allowed = KEYS[c.type] ?? (BUILT_IN.has(c.type) ? ['type'] : null);
  if (!allowed) return; // a registered custom type reads its own keys
  const extra = Object.keys(c).filter((k) => !allowed.includes(k));
  if (extra.length) {
    throw new Error(`fathom.fromConfig: unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k)).join(', ')} in a ${c.type} config (known: ${allowed.join(', ')})`);
  }
}

/**
 * Makes a custom module type loadable by name. `shapes`, if given, returns
 * the [name, shape] list of the parameters and buffers `factory(config)` would create
 * (in namedState() order; [name, shape, 'I32'] for an int32 buffer) without creating them; with it, load()
 * checks a file's tensors against the architecture before building
 * anything. Without it, load() must build the module to learn its shapes.
 */
export function registerModuleType(type: string, factory: Factory, shapes?: (c: ModuleConfig) => ParameterShapes): void {
  if (typeof type !== 'string' || type === '') {
    throw new Error(`fathom.registerModuleType: type must be a non-empty string, got ${JSON.stringify(type) ?? String(type)}`);
  }
  if (BUILT_IN.has(type)) throw new Error(`fathom.registerModuleType: '${type}' is a built-in type and cannot be replaced`);
  if (typeof factory !== 'function') throw new Error(`fathom.registerModuleType('${type}'): factory must be a function (config) => Module, got ${typeof factory}`);
  if (shapes !== undefined && typeof shapes !== 'function') {
    throw new Error(`fathom.registerModuleType('${type}'): shapes must be a function (config) => [name, shape][] when given, got ${typeof shapes}`);
  }
  factories.set(type, factory);
  if (shapes) shapeFns.set(type, shapes);
  else shapeFns.delete(type); // a replaced built-in's shape function no longer applies
}

function checkConfig(c: ModuleConfig): string {
  if (!c || typeof c !== 'object' || typeof c.type !== 'string') {
    throw new Error(`fathom.fromConfig: expected {type: string, ...}, got ${JSON.stringify(c)}`);
  }
  if (!factories.has(c.type)) throw new Error(`fathom.fromConfig: unknown module type '${c.type}' (register it with nn.registerModuleType)`);
  checkKeys(c);
  return c.type;
}

export function fromConfig(c: ModuleConfig): Module {
  const type = checkConfig(c);
  const m = factories.get(type)!(c);
  if (!(m instanceof Module)) {
    throw new Error(`fathom.fromConfig: the factory for '${type}' returned ${m === null ? 'null' : typeof m}, expected an nn.Module`);
  }
  return m;
}

/**
 * The parameters and buffers `fromConfig(c)` would create, as [qualified name, shape]
 * (+ 'I32' for an int32 buffer) entries in namedState() order, computed from the config alone (nothing
 * is allocated). Returns null when some type in the tree was registered
 * without a shape function. Throws what fromConfig would throw for a
 * malformed config (unknown type, bad sizes).
 */
export function parameterShapes(c: ModuleConfig): ParameterShapes | null {
  const fn = shapeFns.get(checkConfig(c));
  return fn ? fn(c) : null;
}
