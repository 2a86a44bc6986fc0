/**
 * The worker side of model.predictAsync (lib/serve/snapshot.ts): holds one deserialize()d copy of
 * the model and handles messages strictly in order — a whole new model, the bytes of the tensors
 * that changed (written into its copy), modules to import, the backend, requests (one predict()
 * each, its output's buffer transferred back), and 'export' (the model as held now, serialize()d, for
 * the worker that replaces this one when the worker cap evicts it with requests still queued). So a
 * request sees exactly the updates posted before it. Posts 'ready' once it has rebuilt the model.
 * Loaded as dist/serve/predict-worker.js by `new Worker(url)`; not part of the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { setBackend } from '../backend/index.js';
import { answer, importAll, revive, wireError } from './share.js';
import { deserialize, serialize } from '../io/serialize.js';
import { predict } from '../models/training.js';
import type { Module } from '../layers/module.js';
import type { PredictIn, PredictInit, PredictOut } from './snapshot.js';
// The module types the package registers on import (lib/index.ts's side-effect imports: the built-in
// layers register in lib/layers/registry.ts, which deserialize imports; RecurrentNet here). Not the
// whole of lib/index.ts: a worker's start imports ~1/3 fewer modules (~90 ms less per new worker).
import '../cli/seqmodels.js';

const init = workerData as PredictInit;
const port = parentPort!;

let model: Module | undefined;
let modelError: Error | undefined;
/** The model's parameters and buffers by name, as byte views (where 'update' writes). */
let state = new Map<string, Uint8Array>();
function load(bytes: Uint8Array): void {
  try {
    model = deserialize(bytes);
    modelError = undefined;
    state = new Map(model.namedState().map(([n, t]) => [n, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)]));
  } catch (e) {
    // Every request fails with this until the next whole model (the caller sends one after new imports).
    model = undefined;
    state = new Map();
    const msg = e instanceof Error ? e.message : String(e);
    const hint = /unknown module type/.test(msg) ? ' (a custom layer: give the module that registers it in options.imports)' : '';
    modelError = new Error(`fathom.predictAsync: the worker cannot rebuild the model: ${msg}${hint}`, { cause: e });
  }
}


async function handle(m: PredictIn): Promise<void> {
  if (m.type === 'model') return load(m.bytes);
  if (m.type === 'update') {
    if (!model) return; // the load failed: its error stands, and the next whole model carries these bytes
    m.names.forEach((n, i) => {
      const dst = state.get(n);
      if (dst && dst.length === m.bytes[i].length) dst.set(m.bytes[i]);
      else modelError = new Error(`fathom.predictAsync: internal: the worker's model has no tensor '${n}' of ${m.bytes[i].length} bytes`);
    });
    return;
  }
  if (m.type === 'imports') {
    await importAll('predictAsync', m.imports); // the whole model follows (snapshot.ts)
    return;
  }
  if (m.type === 'backend') return setBackend(m.backend);
  if (m.type === 'export') {
    // What this worker holds after every message before this one: a model, or the error that stands instead.
    try {
      if (!model || modelError) throw modelError ?? new Error('fathom.predictAsync: no model');
      const bytes = serialize(model);
      port.postMessage({ type: 'exported', bytes } satisfies PredictOut, [bytes.buffer as ArrayBuffer]);
    } catch (e) {
      port.postMessage({ type: 'exported', error: wireError(e) } satisfies PredictOut);
    }
    return;
  }
  const t0 = performance.now(); // the request's time here: the caller sizes its hand-offs by it
  const [reply, transfer] = answer(m.id, () => {
    if (!model || modelError) throw modelError ?? new Error('fathom.predictAsync: no model');
    return predict(model, revive(m.x) as Tensor, m.batchSize === undefined ? undefined : { batchSize: m.batchSize });
  });
  port.postMessage({ ...reply, ms: performance.now() - t0 } satisfies PredictOut, transfer);
}

function fatal(e: unknown): void {
  port.postMessage({ type: 'fatal', ...wireError(e) } satisfies PredictOut);
}

async function main(): Promise<void> {
  setBackend(init.backend);
  await importAll('predictAsync', init.imports); // e.g. the caller's registerModuleType calls
  if (init.bytes) load(init.bytes);
  else modelError = Object.assign(new Error(init.error?.message ?? 'fathom.predictAsync: no model'), { name: init.error?.name ?? 'Error', stack: init.error?.stack });
  // In order: an 'imports' message is awaited before the next message is handled.
  let queue = Promise.resolve();
  port.on('message', (m: PredictIn) => {
    queue = queue.then(() => handle(m)).catch(fatal);
  });
  port.postMessage({ type: 'ready' } satisfies PredictOut);
}

main().catch(fatal);
