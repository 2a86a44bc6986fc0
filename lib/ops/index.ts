export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './softmax.js';
export * from './create.js';
export * from './layer.js';
export * from './maxout.js';
export { dropout } from './dropout.js';
// normalisation (issue #10, norm)
export { batchNorm, layerNorm, type BatchNormOptions, type LayerNormOptions } from './norm.js';
// conv (issue #10)
export * from './conv.js';
