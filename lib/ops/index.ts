export * from './elementwise.js';
export * from './reduce.js';
export * from './linalg.js';
export * from './softmax.js';
export * from './create.js';
export * from './layer.js';
export * from './maxout.js';
export { dropout } from './dropout.js';
// normalisation
export { batchNorm, layerNorm, type BatchNormOptions, type LayerNormOptions } from './norm.js';
// conv
export * from './conv.js';
// pooling
export { maxPool2d, avgPool2d, adaptiveAvgPool2d, flatten } from './pool.js';
export type { MaxPool2dOptions, AvgPool2dOptions } from './pool.js';
