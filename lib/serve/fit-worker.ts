/**
 * The worker side of fitInWorker (lib/serve/fit.ts): revives the model and
 * the shared tensors, runs fit() with the caller's data options, posts epoch
 * (and batch) progress, stops at a batch boundary when the caller's flag is
 * set, and posts the trained model's bytes back (transferred, not copied).
 * Loaded as dist/serve/fit-worker.js by `new Worker(url)`; not part of the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../ops/index.js';
import { setBackend } from '../backend/index.js';
import { importAll } from './share.js';
import { serialize, deserialize } from '../io/serialize.js';
import { fit, type FitOptions, type History } from '../models/training.js';
import { OPTIMIZERS, type OptimizerName } from '../models/compile.js';
import * as lrScheduler from '../optimizers/lr_scheduler.js';
import type { Callbacks, FitContext } from '../models/hooks.js';
import type { LRSchedulerSpec, WorkerInput, WorkerMessage } from './fit.js';
// Registers the module types the package registers on import (as importing 'fathom' would).
import '../index.js';

const input = workerData as WorkerInput;
const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

async function main(): Promise<void> {
  setBackend(input.backend);
  manualSeed(input.globalSeed);
  await importAll('fitInWorker', input.imports); // e.g. the caller's registerModuleType calls
  const model = deserialize(input.bytes);
  const x = Tensor.from(input.x);
  const y = Tensor.from(input.y);
  const stopped = (): boolean => Atomics.load(input.control, 0) !== 0;
  let history: History = { epochs: [], history: { loss: [] }, samplesPerSecond: 0 };
  let aborted = stopped();
  if (!aborted) {
    const { lrScheduler: spec, optimizer: name, lr, ...rest } = input.options as FitOptions & { lrScheduler?: LRSchedulerSpec; optimizer?: OptimizerName };
    const options: FitOptions = { ...rest, optimizer: name, lr };
    if (input.validationData) options.validationData = [Tensor.from(input.validationData[0]), Tensor.from(input.validationData[1])];
    if (spec) {
      // A scheduler needs the optimizer instance: build the named one here, as fit() would.
      const key: string = name ?? 'adam';
      const Opt = Object.hasOwn(OPTIMIZERS, key) ? OPTIMIZERS[key as OptimizerName] : undefined;
      if (!Opt) throw new Error(`fathom.fit: optimizer must be one of ${Object.keys(OPTIMIZERS).map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(name)}`);
      const optimizer = new Opt(model.parameters(), lr === undefined ? undefined : { lr });
      const { type, ...schedOptions } = spec;
      const Sched = lrScheduler[type] as unknown as new (opt: typeof optimizer, o: object) => FitOptions['lrScheduler'];
      options.optimizer = optimizer;
      delete options.lr;
      options.lrScheduler = new Sched(optimizer, schedOptions);
    }
    let epoch = 0;
    let context: FitContext | undefined;
    const callbacks: Callbacks = {
      setModel: (_m, c) => { context = c; },
      onEpochBegin: (e) => { epoch = e; },
      onBatchEnd: (b, logs) => {
        if (input.batchEvents) post({ type: 'batch', batch: b, logs: { loss: logs.loss, size: logs.size, epoch, batches: context!.batches } });
        if (!stopped()) return;
        aborted = true;
        context!.stopReason ??= `aborted by the signal at epoch ${epoch + 1}, batch ${b + 1}`;
        return false;
      },
      onEpochEnd: (e, logs) => { post({ type: 'epoch', epoch: e, logs: { ...logs } }); },
    };
    options.callbacks = callbacks;
    history = await fit(model, x, y, options);
  } else {
    history.stopReason = 'aborted by the signal before training started';
  }
  const bytes = serialize(model);
  post({ type: 'done', bytes, history, aborted }, [bytes.buffer as ArrayBuffer]);
}

main().catch((e: unknown) => {
  const err = e instanceof Error ? e : new Error(String(e));
  post({ type: 'error', name: err.name, message: err.message, stack: err.stack });
});
