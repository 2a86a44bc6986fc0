/** The `nn` namespace: modules and layers. */
export { Module, parameter, type ModuleConfig } from './module.js';
export { Linear, initWeights, type Init, type LinearOptions, type Regularizer } from './linear.js';
export { ReLU, Sigmoid, Tanh, Sign, Softmax, LogSoftmax } from './activations.js';
export { LeakyReLU, ELU, GELU, Softplus, SiLU, Maxout, type SoftplusOptions, type MaxoutOptions } from './activations.js';
export { Sequential } from './sequential.js';
export { relu, sigmoid, tanh, sign, softmax, logSoftmax } from '../ops/index.js';
export { leakyRelu, elu, gelu, softplus, silu, maxout } from '../ops/index.js';
export { fromConfig, registerModuleType, type ParameterShapes } from './registry.js';
export { Perceptron, type PerceptronTrainOptions, type PerceptronTrainResult } from './perceptron.js';
export { Dropout, GaussianNoise } from './noise.js';
export { dropout } from '../ops/index.js';
export * as utils from './utils.js';
export type { ParameterPenalty, LoadStateDictOptions, LoadStateDictResult } from './module.js';
// normalisation layers
export { BatchNorm1d, BatchNorm2d, LayerNorm, type BatchNormLayerOptions, type LayerNormLayerOptions } from './norm.js';
export { batchNorm, layerNorm } from '../ops/index.js';
export { buffer } from './module.js';
// pooling layers
export { MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Flatten, Dropout2d } from './pool.js';
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, flatten } from '../ops/index.js';
export { Conv1d, Conv2d, ConvTranspose2d, type ConvLayerOptions, type ConvTransposeLayerOptions } from './conv.js';
// --- #11 rnn ---
export { Embedding, type EmbeddingLayerOptions } from './embedding.js';
export { RNN, LSTM, GRU, RNNCell, LSTMCell, GRUCell } from './rnn.js';
export type { RNNOptions, SimpleRNNOptions, CellOptions, RNNCellOptions, RnnState, RnnResult, SequenceOptions, Nonlinearity } from './rnn.js';
export { embedding } from '../ops/index.js';
export { RBM, type RBMOptions, type CDStepOptions, type CDStepResult, type BernoulliSampler } from './rbm.js';
// --- end #11 rnn ---
// --- #12 ae ---
export { MaskingNoise } from './noise.js';
export { ActivityRegularization, KLSparsity } from './activity.js';
export type { ActivityL1L2Options, KLSparsityOptions } from '../losses/sparsity.js';
// --- end #12 ae ---
// --- #12 graph ---
// The functional API (Keras's): nn.input, layer.apply, nn.Model, merge layers.
export { input, SymbolicTensor, type InputOptions, type ApplyOptions } from './graph/symbolic.js';
export { Model, type ModelOptions } from './graph/model.js';
export { Concatenate, Add, Multiply, Average } from './graph/merge.js';
// --- end #12 graph ---
