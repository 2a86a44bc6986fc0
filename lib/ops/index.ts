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
// --- #11 tensor ops ---
export { permute, squeeze, unsqueeze, expand, flip, narrow, concat, stack, split, chunk } from './shape.js';
export { index, gather, oneHot, where, clamp, cumsum, min, argmin } from './index_ops.js';
export { eq, ne, lt, le, gt, ge, floorDivide, remainder, toFloat, toInt } from './compare.js';
// --- end #11 tensor ops ---
// --- #11 cells ---
export { rnnSequence, lstmCell, gruCell, rnnCell, rnnGates, type RnnMode, type RnnSequenceOptions, type RnnSequenceResult } from './rnn.js';
// --- end #11 cells ---
// --- #11 rnn ---
export { embedding, type EmbeddingOptions } from './embedding.js';
// --- end #11 rnn ---
