/**
 * The tape. An op whose inputs require gradients records a Node on its
 * output: the op's name (its key in the one gradient table), its inputs,
 * and whatever the backward rule needs (`saved`). backward() walks the nodes
 * in reverse topological order and accumulates gradients.
 */
import type { Tensor } from '../tensor/tensor.js';

export interface Node {
  op: string;
  inputs: Tensor[];
  saved: Record<string, unknown>;
}

let gradEnabled = true;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/**
 * Runs fn with gradient recording off (inference mode). Works with sync and
 * async functions; recording is restored when fn (or its promise) settles.
 */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  let result: T;
  try {
    result = fn();
  } catch (e) {
    gradEnabled = prev;
    throw e;
  }
  if (result instanceof Promise) {
    return result.finally(() => {
      gradEnabled = prev;
    }) as T;
  }
  gradEnabled = prev;
  return result;
}

/** Sets gradient recording on or off; returns the previous setting. */
export function setGradEnabled(on: boolean): boolean {
  const prev = gradEnabled;
  gradEnabled = on;
  return prev;
}

/** Whether an op over these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | undefined)[]): boolean {
  if (!gradEnabled) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}
