/**
 * The tape. An op whose inputs require gradients records a Node on its
 * output: the op's name (its key in the one gradient table), its inputs,
 * and whatever the backward rule needs (`saved`). backward() walks the nodes
 * in reverse topological order and accumulates gradients, then releases them.
 *
 * Whether recording is on is tracked per async context (AsyncLocalStorage),
 * so `await noGrad(async () => ...)` in one request does not switch
 * recording off for a fit() running concurrently in another.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Tensor } from '../tensor/tensor.js';

export interface Node {
  op: string;
  inputs: Tensor[];
  saved: Record<string, unknown>;
  /** Set by backward() once the node's inputs and saved tensors were dropped. */
  released?: boolean;
}

const context = new AsyncLocalStorage<{ enabled: boolean }>();
let globalEnabled = true;

export function isGradEnabled(): boolean {
  const s = context.getStore();
  return s ? s.enabled : globalEnabled;
}

/**
 * Runs fn with gradient recording off (inference mode), sync or async: for
 * an async fn, recording stays off in its continuations only.
 */
export function noGrad<T>(fn: () => T): T {
  if (typeof fn !== 'function') throw new Error(`fathom.noGrad: fn must be a function, got ${fn === null ? 'null' : typeof fn}`);
  return context.run({ enabled: false }, fn);
}

/** Sets gradient recording on or off in the current context; returns the previous setting. */
export function setGradEnabled(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new Error(`fathom.setGradEnabled: on must be a boolean, got ${on === null ? 'null' : typeof on}`);
  const s = context.getStore();
  if (s) {
    const prev = s.enabled;
    s.enabled = on;
    return prev;
  }
  const prev = globalEnabled;
  globalEnabled = on;
  return prev;
}

/** Whether an op over these inputs must be recorded. */
export function needsGrad(...inputs: (Tensor | undefined)[]): boolean {
  if (!isGradEnabled()) return false;
  for (const t of inputs) if (t && t.requiresGrad) return true;
  return false;
}
