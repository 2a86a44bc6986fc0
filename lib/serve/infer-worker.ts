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
import { answer, importAll, wireError } from './share.js';
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
    const [reply, transfer] = answer(m.id, () => {
      if (!model) throw modelError ?? new Error('fathom.InferencePool: no model');
      return predict(model, Tensor.from(m.x), m.batchSize === undefined ? undefined : { batchSize: m.batchSize });
    });
    port.postMessage(reply satisfies InferOut, transfer);
  });
  port.postMessage({ type: 'ready' } satisfies InferOut);
}

main().catch((e: unknown) => {
  port.postMessage({ type: 'fatal', ...wireError(e) } satisfies InferOut);
});
