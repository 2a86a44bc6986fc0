/**
 * The worker side of InferencePool (lib/serve/pool.ts): holds one
 * deserialize()d copy of the model and answers each 'predict' message with one
 * whole predict() (every kernel runs on this thread or the native pool, never
 * on the caller's JS thread). Messages are handled in the order they arrive,
 * so a 'model' message (setModel) takes effect between two requests: those
 * posted before it use the old weights, those after it the new ones.
 * Loaded as dist/serve/infer-worker.js by `new Worker(url)`; not part of the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { nativeBinding, setBackend } from '../backend/index.js';
import { importAll, outgoing } from './share.js';
import { deserialize } from '../io/serialize.js';
import { predict } from '../models/training.js';
import type { Module } from '../layers/module.js';
import type { InferIn, InferInit, InferOut } from './pool.js';
import { lowerKernelThreadsPriority, lowerThreadPriority } from './priority.js';
// Registers the module types the package registers on import (as importing 'fathom' would).
import '../index.js';

const init = workerData as InferInit;
const port = parentPort!;

let model: Module | undefined;
let modelError: Error | undefined;

function load(bytes: Uint8Array): void {
  try {
    model = deserialize(bytes);
    modelError = undefined;
  } catch (e) {
    model = undefined;
    modelError = e instanceof Error ? e : new Error(String(e));
  }
}

async function main(): Promise<void> {
  setBackend(init.backend);
  if (init.threads > 0 && init.backend === 'native') nativeBinding()?.setThreadNumThreads?.(init.threads); // this thread's calls only
  if (init.nice > 0) {
    lowerThreadPriority(init.nice); // this thread: it no longer preempts the serving thread when a batch wakes it
    if (init.backend === 'native') lowerKernelThreadsPriority(init.nice);
  }
  await importAll('InferencePool', init.imports); // e.g. the caller's registerModuleType calls
  load(init.bytes);
  port.on('message', (m: InferIn) => {
    if (m.type === 'model') {
      load(m.bytes);
      return;
    }
    try {
      if (!model) throw modelError ?? new Error('fathom.InferencePool: no model');
      const x = Tensor.from(m.x);
      const y = predict(model, x, m.batchSize === undefined ? undefined : { batchSize: m.batchSize });
      const transfer: ArrayBuffer[] = [];
      const outputs = Array.isArray(y) ? y.map((t) => outgoing(t, transfer)) : [outgoing(y, transfer)];
      const reply: InferOut = { type: 'result', id: m.id, outputs, list: Array.isArray(y) };
      port.postMessage(reply, transfer);
    } catch (e) {
      const err = e instanceof Error ? e : new Error(String(e));
      const reply: InferOut = { type: 'error', id: m.id, name: err.name, message: err.message, stack: err.stack };
      port.postMessage(reply);
    }
  });
  port.postMessage({ type: 'ready' } satisfies InferOut);
}

main().catch((e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e));
  port.postMessage({ type: 'fatal', name: err.name, message: err.message, stack: err.stack } satisfies InferOut);
});
