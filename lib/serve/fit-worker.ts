/**
 * The worker side of fitInWorker (lib/serve/fit.ts): revives the model and
 * the shared tensors, runs fit() with the caller's data options, posts epoch
 * (and batch) progress, stops at a batch boundary when the caller's flag is
 * set, and posts the trained model's bytes back (transferred, not copied).
 * The first job comes as workerData; later ones as 'job' messages, when
 * fitInWorker reuses this worker while it is idle (its imports and compiled
 * code stay warm; each job sets its own backend and seeds).
 * Loaded as dist/serve/fit-worker.js by `new Worker(url)`; not part of the API.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Tensor } from '../tensor/tensor.js';
import { manualSeed } from '../ops/index.js';
import { setBackend } from '../backend/index.js';
import { importAll, revive } from './share.js';
import { lowerKernelThreadsPriority, lowerThreadPriority } from './priority.js';
import { serialize, deserialize, deserializeCheckpoint, hasOptimizerState } from '../io/serialize.js';
import { fit, type FitOptions, type History } from '../models/training.js';
import { OPTIMIZERS, type OptimizerName } from '../models/compile.js';
import * as lrScheduler from '../optimizers/lr_scheduler.js';
import type { Optimizer } from '../optimizers/optimizer.js';
import type { Module } from '../layers/module.js';
import type { Callbacks, FitContext } from '../models/hooks.js';
import type { LRSchedulerSpec, WorkerInput, WorkerMessage } from './fit.js';
// The module types the package registers on import (lib/index.ts's side-effect imports: the built-in
// layers register in lib/layers/registry.ts, which deserialize imports; RecurrentNet here). Not the
// whole of lib/index.ts: a worker's start imports ~1/3 fewer modules (~90 ms less per new worker).
import '../cli/seqmodels.js';

const post = (m: WorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort!.postMessage(m, transfer);

async function main(input: WorkerInput): Promise<void> {
  setBackend(input.backend);
  if (input.nice > 0) {
    lowerThreadPriority(input.nice); // this thread, then the kernel pool's (one per process)
    if (input.backend === 'native') lowerKernelThreadsPriority(input.nice);
  }
  manualSeed(input.globalSeed);
  await importAll('fitInWorker', input.imports); // e.g. the caller's registerModuleType calls
  type Options = FitOptions & { lrScheduler?: LRSchedulerSpec; optimizer?: OptimizerName; lrSchedulerState?: lrScheduler.SchedulerState };
  const { lrScheduler: spec, optimizer: name, lr, lrSchedulerState, ...rest } = input.options as Options;
  // Bytes with an optimizer part (a checkpoint): the optimizer is rebuilt with its state and training resumes it.
  let model: Module;
  let optimizer: Optimizer | undefined;
  const resumed = hasOptimizerState(input.bytes);
  if (resumed) {
    ({ model, optimizer } = deserializeCheckpoint(input.bytes));
    const Named = name !== undefined && Object.hasOwn(OPTIMIZERS, name) ? OPTIMIZERS[name as OptimizerName] : undefined;
    if (name !== undefined && Named?.name !== optimizer.name) {
      throw new Error(`fathom.fitInWorker: options.optimizer is ${JSON.stringify(name)}, but the model's bytes hold ${optimizer.name} optimizer state to resume; leave optimizer out (or name it '${optimizer.name.toLowerCase()}')`);
    }
    if (lr !== undefined) throw new Error(`fathom.fitInWorker: lr applies to a new, named optimizer; the ${optimizer.name} optimizer resumed here has its own (its groups' lr, as saved)`);
  } else {
    model = deserialize(input.bytes);
  }
  const x = revive(input.x);
  const y = revive(input.y);
  const stopped = (): boolean => Atomics.load(input.control, 0) !== 0;
  let history: History = { epochs: [], history: { loss: [] }, samplesPerSecond: 0 };
  let aborted = stopped();
  let scheduler: FitOptions['lrScheduler'] & { stateDict?: () => lrScheduler.SchedulerState } | undefined;
  if (!aborted) {
    const options: FitOptions = { ...rest, optimizer: optimizer ?? name, lr };
    if (input.validationData) options.validationData = [revive(input.validationData[0]), revive(input.validationData[1])];
    if (spec) {
      // A scheduler needs the optimizer instance: build the named one here, as fit() would.
      if (!optimizer) {
        const key: string = name ?? 'adam';
        const Opt = Object.hasOwn(OPTIMIZERS, key) ? OPTIMIZERS[key as OptimizerName] : undefined;
        if (!Opt) throw new Error(`fathom.fit: optimizer must be one of ${Object.keys(OPTIMIZERS).map((k) => `'${k}'`).join(', ')}, got ${JSON.stringify(name)}`);
        optimizer = new Opt(model.parameters(), lr === undefined ? undefined : { lr });
      }
      // PyTorch's order when resuming a schedule: build the scheduler (which writes the groups' lr and
      // momentum), then restore the optimizer's groups as they were, then the scheduler's counters.
      // Without a scheduler state it is a new schedule over the optimizer, as on the calling thread.
      const groups = optimizer.stateDict();
      const { type, ...schedOptions } = spec;
      const Sched = lrScheduler[type] as unknown as new (opt: Optimizer, o: object) => NonNullable<typeof scheduler>;
      scheduler = new Sched(optimizer, schedOptions);
      if (resumed && lrSchedulerState !== undefined) optimizer.loadStateDict(groups);
      if (lrSchedulerState !== undefined) {
        if (typeof (scheduler as { loadStateDict?: unknown }).loadStateDict !== 'function') throw new Error(`fathom.fitInWorker: options.lrSchedulerState: ${type} has no state to load`);
        (scheduler as unknown as { loadStateDict(s: unknown): void }).loadStateDict(lrSchedulerState);
      }
      options.optimizer = optimizer;
      delete options.lr;
      options.lrScheduler = scheduler;
    } else if (optimizer) {
      delete options.lr;
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
    history = await fit(model, x as Tensor, y as Tensor, options);
    optimizer = context?.optimizer ?? optimizer;
  } else {
    history.stopReason = 'aborted by the signal before training started';
    // The optimizer fit() would have built, untouched (the result always carries one).
    if (!optimizer) {
      const key: string = name ?? 'adam';
      if (Object.hasOwn(OPTIMIZERS, key)) optimizer = new OPTIMIZERS[key as OptimizerName](model.parameters(), lr === undefined ? undefined : { lr });
    }
  }
  // The model and its optimizer's state (a checkpoint's bytes), so the caller can resume.
  const bytes = serialize(model, optimizer ? { optimizer } : undefined);
  const lrSchedulerStateOut = scheduler?.stateDict?.();
  post({ type: 'done', bytes, history, aborted, ...(lrSchedulerStateOut ? { lrSchedulerState: lrSchedulerStateOut } : {}) }, [bytes.buffer as ArrayBuffer]);
}

/** One job; the worker then waits for the next (fitInWorker keeps an idle worker warm between calls). */
function run(input: WorkerInput): void {
  main(input).catch((e: unknown) => {
    const err = e instanceof Error ? e : new Error(String(e));
    post({ type: 'error', name: err.name, message: err.message, stack: err.stack });
  });
}

run(workerData as WorkerInput);
parentPort!.on('message', (m: { type: 'job'; input: WorkerInput }) => {
  if (m?.type === 'job') run(m.input);
});
