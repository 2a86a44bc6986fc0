/**
 * Multi-input / multi-output models (Keras's functional models with several
 * inputs or outputs): the interface fit / evaluate / predict recognise.
 * nn.Model implements it; inputs and targets are matched by these names.
 */
import type { Tensor } from '../tensor/tensor.js';
import type { Module } from '../layers/module.js';

export interface MultiIOModule {
  /** Unique; from nn.input({ name }) or generated ('input_1', …). */
  readonly inputNames: readonly string[];
  /** Unique; the output layers' names (Keras: the layer's name). */
  readonly outputNames: readonly string[];
  /** Inputs in inputNames order, outputs in outputNames order. */
  forwardAll(inputs: Tensor[]): Tensor[];
}

/** Whether `m` is a Module implementing MultiIOModule (checks the three members). */
export function isMultiIO(m: unknown): m is Module & MultiIOModule {
  if (m === null || typeof m !== 'object') return false;
  const c = m as Partial<MultiIOModule>;
  return Array.isArray(c.inputNames) && Array.isArray(c.outputNames) && typeof c.forwardAll === 'function';
}
