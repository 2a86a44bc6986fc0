/**
 * @internal The one link from nn.Module to the async inference of lib/serve/snapshot.ts:
 * Module.predictAsync calls `asyncPredict.run`, which snapshot.ts sets when it is loaded
 * (importing 'fathom' loads it). A plain object and no imports at run time: lib/layers/module.ts
 * imports this file, and a static import of snapshot.ts from there would be an import cycle
 * through serialize → the layer registry → classes that extend Module (evaluated before Module is).
 */
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Tensors } from '../models/multi.js';
import type { PredictAsyncOptions } from './snapshot.js';

export const asyncPredict: {
  run?: (model: Module, x: Tensors, options?: PredictAsyncOptions) => Promise<Tensor | Tensor[]>;
} = {};
