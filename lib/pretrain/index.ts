/**
 * Unsupervised pre-training (issue #12): `pretrain.layerwise(layers, x, options)`,
 * greedy layer-wise training of a stack of encoder stages as autoencoders
 * (optionally denoising, optionally with tied weights) or as RBMs (a deep
 * belief network's initialisation), before fine-tuning with fit().
 */
export { layerwise } from './layerwise.js';
export type { LayerwiseOptions, LayerwiseResult, LayerReport, PretrainMethod, Corruption, ReconstructionLoss, StageActivation } from './layerwise.js';
export { StageAutoencoder } from './autoencoder.js';
