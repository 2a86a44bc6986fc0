/**
 * Tensors in shared memory: a Float32Array or Int32Array over a
 * SharedArrayBuffer is an ordinary tensor's storage (every op and kernel takes
 * it, on both backends), and postMessage / structuredClone share it instead of
 * copying it: the receiving thread sees the same memory (Tensor.from(msg)
 * revives the tensor around it).
 */
import { Tensor, checkStorage } from '../tensor/tensor.js';
import { describeValue } from '../tensor/shape.js';
import type { AbortSignalLike } from './fit.js';
import { show } from '../layers/options.js';

/** Whether t's storage lives in a SharedArrayBuffer (crosses threads without a copy). */
export function isShared(t: Tensor): boolean {
  return typeof SharedArrayBuffer === 'function' && t.data.buffer instanceof SharedArrayBuffer;
}

/**
 * t itself when its storage is already in a SharedArrayBuffer, else a copy of
 * t in a new SharedArrayBuffer (one copy, cut from the tape): sending it to a
 * worker then shares it instead of copying it again. PyTorch's
 * `share_memory_()` moves a tensor's storage in place; a fathom tensor's
 * storage is fixed, so this returns the shared tensor instead.
 * @throws `fathom.shareMemory: ...` for a non-Tensor or a tensor whose buffer
 *   was transferred away.
 */
export function shareMemory(t: Tensor): Tensor {
  if (!(t instanceof Tensor)) throw new Error(`fathom.shareMemory: expected a Tensor, got ${describeValue(t)}`);
  checkStorage('shareMemory', 'the tensor', t);
  if (isShared(t)) return t;
  const buf = new SharedArrayBuffer(t.data.byteLength);
  const data = t.dtype === 'int32' ? new Int32Array(buf) : new Float32Array(buf);
  data.set(t.data);
  return new Tensor(data, t.shape);
}

/** A tensor as it crosses threads (postMessage): its typed array (shared or transferred) and shape. @internal */
export interface WireTensor {
  data: Float32Array | Int32Array;
  shape: number[];
}
/** Inputs or targets as they cross: one tensor, or a list / an object of them (a model of several inputs or outputs). @internal */
export type WireTensors = WireTensor | WireTensor[] | Record<string, WireTensor>;

/** A worker's side of WireTensors: Tensors over the same memory (Tensor.from checks each). @internal */
export function revive(x: WireTensors): Tensor | Tensor[] | Record<string, Tensor> {
  if (Array.isArray(x)) return x.map((t) => Tensor.from(t));
  if (ArrayBuffer.isView((x as WireTensor).data)) return Tensor.from(x as WireTensor);
  const o: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(x as Record<string, WireTensor>)) o[k] = Tensor.from(t);
  return o;
}

/**
 * An output as it crosses back: its own buffer is listed in `transfer` (moved, no copy); a view into a
 * larger buffer, a shared one or one already listed is copied once. @internal
 */
export function outgoing(t: Tensor, transfer: ArrayBuffer[]): WireTensor {
  let data = t.data;
  if (!(data.buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength || transfer.includes(data.buffer)) {
    data = data.slice();
  }
  transfer.push(data.buffer as ArrayBuffer);
  return { data, shape: [...t.shape] };
}

/**
 * Imports a worker's `imports` in order (the caller's registerModuleType modules); a module that cannot
 * be loaded or throws is reported naming the op, the option and the module, its own error as the cause.
 * @internal
 */
export async function importAll(op: string, specifiers: readonly string[]): Promise<void> {
  for (const [i, m] of specifiers.entries()) {
    try {
      await import(m);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new Error(`fathom.${op}: options.imports[${i}] (${m}) failed to load in the worker: ${msg}`, { cause: e });
    }
  }
}

/** Whether s is a real AbortSignal (the `signal` options need one at run time). @internal */
export function isAbortSignal(s: unknown): s is AbortSignalLike {
  return typeof AbortSignal === 'function' && s instanceof AbortSignal;
}

/**
 * The 'abort' listeners of waiting requests: ONE per distinct signal for the whole process, however many
 * requests and predictors share it (a server passing its one shutdown signal to every request of a dozen
 * BatchingPredictors would otherwise add a listener per request or per predictor: Node warns past 10),
 * removed when no request waits on it any more. When a signal fires, each SignalWatchers' `onAbort` gets
 * every request of its own still watched under it, at once (so a caller can cancel them all before it
 * schedules anything). Used by BatchingPredictor (one per predictor) and predictAsync. @internal
 */
export class SignalWatchers<R> {
  constructor(private readonly onAbort: (requests: Set<R>, signal: AbortSignalLike) => void) {}

  watch(r: R, signal: AbortSignalLike): void {
    let w = watched.get(signal);
    if (!w) {
      const groups = new Map<SignalWatchers<unknown>, Set<unknown>>();
      const listener = (): void => {
        watched.delete(signal);
        for (const [owner, requests] of groups) owner.onAbort(requests, signal);
      };
      w = { groups, listener };
      watched.set(signal, w);
      signal.addEventListener('abort', listener, { once: true });
    }
    const me = this as SignalWatchers<unknown>;
    let mine = w.groups.get(me);
    if (!mine) w.groups.set(me, (mine = new Set()));
    mine.add(r);
  }

  /** r no longer waits (handed over, answered, failed): its signal's listener goes with the last request on it. */
  unwatch(r: R, signal: AbortSignalLike): void {
    const w = watched.get(signal);
    const me = this as SignalWatchers<unknown>;
    const mine = w?.groups.get(me);
    if (!w || !mine || !mine.delete(r) || mine.size > 0) return;
    w.groups.delete(me);
    if (w.groups.size > 0) return;
    watched.delete(signal);
    signal.removeEventListener('abort', w.listener);
  }
}
/** Every signal some request waits on, its one listener and its requests by owner (SignalWatchers). */
const watched = new Map<AbortSignalLike, { groups: Map<SignalWatchers<unknown>, Set<unknown>>; listener: () => void }>();

/** options.timeoutMs as given: undefined (no limit) or a finite number of milliseconds > 0. @internal */
export function checkTimeoutMs(op: string, ms: number | undefined): number | undefined {
  if (ms !== undefined && !(ms > 0 && Number.isFinite(ms))) throw new Error(`fathom.${op}: options.timeoutMs must be a finite number of milliseconds > 0, got ${show(ms)}`);
  return ms;
}

/** An error as it crosses threads (the receiver rebuilds it: fit.ts workerError). @internal */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
}
/** e as it crosses threads. @internal */
export function wireError(e: unknown): WireError {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message, stack: err.stack };
}

/** A worker's answer to request `id`: its outputs, or the error computing them threw. @internal */
export type WireAnswer = { type: 'result'; id: number; outputs: WireTensor[]; list: boolean } | ({ type: 'error'; id: number } & WireError);

/**
 * Runs a worker's request (`compute`: a predict) and returns the message that answers it, with the output
 * buffers to transfer (InferencePool's and predictAsync's workers). @internal
 */
export function answer(id: number, compute: () => Tensor | Tensor[]): [WireAnswer, ArrayBuffer[]] {
  const transfer: ArrayBuffer[] = [];
  try {
    const y = compute();
    const outputs = Array.isArray(y) ? y.map((t) => outgoing(t, transfer)) : [outgoing(y, transfer)];
    return [{ type: 'result', id, outputs, list: Array.isArray(y) }, transfer];
  } catch (e) {
    return [{ type: 'error', id, ...wireError(e) }, []];
  }
}
