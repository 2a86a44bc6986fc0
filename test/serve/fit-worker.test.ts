// fitInWorker (lib/serve/fit.ts): fit() in a worker thread. It trains (the same weights as fit() on this
// thread for the same seed, on both backends), leaves the caller's model alone, reports progress, stops at a
// batch boundary on abort, propagates the worker's errors, refuses what cannot cross threads, and never
// leaves a worker behind.
//
// The worker runs the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deserialize, fitInWorker, manualSeed, nn, ones, optim, randn, serialize, setBackend, shareMemory, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { fitWorkerStats, idleFitWorkers, liveWorkers } from '../../lib/serve/fit.js';
import { closeWorkers } from '../../lib/serve/snapshot.js';
import type { BatchLogs, Logs } from '../../lib/models/training.js';
import { registerScale, Scale } from '../helpers/scale.js';
import { data, mlp } from '../helpers/classes.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

const weights = (m: nn.Module): number[] => m.parameters().flatMap((p) => Array.from(p.data));
const OPTS = { loss: 'crossEntropy', optimizer: 'adam', lr: 0.02, batchSize: 16, seed: 7 } as const;

afterEach(async () => {
  // Every worker left is an idle one kept warm for the next call (none still running); closeWorkers ends them.
  expect(liveWorkers.size).toBe(idleFitWorkers());
  await closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('fitInWorker (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('trains a copy: the loss falls, the weights equal fit() on this thread bit for bit, the caller\'s model is untouched', async () => {
    const { x, y } = data();
    const model = mlp();
    const before = weights(model);
    const predicted = Array.from(model.predict(x).data);
    // The caller's model keeps serving while its copy trains: predict() during training gives the old weights' output.
    const during: number[][] = [];
    const r = await fitInWorker(model, x, y, {
      ...OPTS, epochs: 6, validationSplit: 0.25, metrics: ['accuracy', { name: 'topK', k: 2 }],
      onEpochEnd: () => { during.push(Array.from(model.predict(x).data)); },
    });
    expect(r.aborted).toBe(false);
    expect(r.model).not.toBe(model);
    expect(weights(model)).toEqual(before);
    expect(during.length).toBe(6);
    for (const p of during) expect(p).toEqual(predicted);
    const loss = r.history.history.loss;
    expect(loss.length).toBe(6);
    expect(loss[5]).toBeLessThan(loss[0] * 0.8);
    expect(r.history.history.valTopK?.length).toBe(6);
    // The same recipe on this thread, from the same initial weights.
    const here = deserialize(serialize(model));
    const h = await here.fit(x, y, { ...OPTS, epochs: 6, validationSplit: 0.25, metrics: ['accuracy', { name: 'topK', k: 2 }], verbose: 0 });
    expect(weights(r.model)).toEqual(weights(here));
    expect(r.history.history).toEqual(h.history);
    // The returned model knows its loss (the training config travels with the bytes): evaluate works as after fit().
    expect((await r.model.evaluate(x, y)).loss).toBeCloseTo((await here.evaluate(x, y)).loss, 6);
  });

  it('frozen parameters stay frozen in the worker: they come back unchanged, the rest trained as fit() trains them', async () => {
    const { x, y } = data();
    const model = mlp();
    (model.layers[0] as nn.Linear).trainable = false;
    const r = await fitInWorker(model, x, y, { ...OPTS, epochs: 2 });
    const sd = r.model.stateDict();
    expect(Array.from(sd['0.weight'].data)).toEqual(Array.from(model.stateDict()['0.weight'].data));
    expect(r.model.parameters()[0].requiresGrad).toBe(false);
    expect(Array.from(sd['2.weight'].data)).not.toEqual(Array.from(model.stateDict()['2.weight'].data));
    const here = deserialize(serialize(model));
    await here.fit(x, y, { ...OPTS, epochs: 2, verbose: 0 });
    expect(weights(r.model)).toEqual(weights(here));
  });

  it('a scheduler given as data matches the scheduler instance on this thread; bytes work as the model', async () => {
    const { x, y } = data();
    const model = mlp();
    const totalSteps = 3 * 6;
    const bytes = serialize(model);
    const r = await fitInWorker(bytes, x, y, {
      ...OPTS, epochs: 3, lrScheduler: { type: 'OneCycleLR', maxLr: 0.05, totalSteps }, lrSchedulerInterval: 'batch',
    });
    expect(bytes.length).toBeGreaterThan(0); // the caller's bytes are copied, not taken
    const here = deserialize(bytes);
    const opt = new optim.Adam(here.parameters(), { lr: 0.02 });
    const h = await here.fit(x, y, {
      ...OPTS, lr: undefined, optimizer: opt, epochs: 3, verbose: 0,
      lrScheduler: new optim.lrScheduler.OneCycleLR(opt, { maxLr: 0.05, totalSteps }), lrSchedulerInterval: 'batch',
    });
    expect(r.history.history.lr).toEqual(h.history.lr);
    expect(weights(r.model)).toEqual(weights(here));
  });

  it('reports progress on this thread: every epoch\'s logs and, with onBatchEnd, every batch in order', async () => {
    const { x, y } = data();
    const epochs: [number, Logs][] = [];
    const batches: [number, BatchLogs & { epoch: number; batches: number }][] = [];
    const r = await fitInWorker(mlp(), x, y, {
      ...OPTS, epochs: 3, validationSplit: 0.25,
      onEpochEnd: (e, logs) => { epochs.push([e, logs]); },
      onBatchEnd: (b, logs) => { batches.push([b, logs]); },
    });
    expect(epochs.map(([e]) => e)).toEqual([0, 1, 2]);
    expect(epochs.map(([, l]) => l.loss)).toEqual(r.history.history.loss);
    expect(epochs.map(([, l]) => l.valLoss)).toEqual(r.history.history.valLoss);
    // 72 training rows in batches of 16: 5 batches (the last of 8) per epoch.
    expect(batches.map(([b, l]) => [l.epoch, b, l.size, l.batches])).toEqual(
      [0, 1, 2].flatMap((e) => [0, 1, 2, 3, 4].map((b) => [e, b, b === 4 ? 8 : 16, 5])));
    for (const [, l] of batches) expect(Number.isFinite(l.loss)).toBe(true);
  });

  it('abort stops at a batch boundary: the result is exactly fit() stopped after the same batches', async () => {
    const { x, y } = data();
    const model = mlp();
    const ac = new AbortController();
    let seen = 0;
    const r = await fitInWorker(model, x, y, {
      ...OPTS, epochs: 50, signal: ac.signal,
      onBatchEnd: () => { if (++seen === 8) ac.abort(); },
    });
    expect(r.aborted).toBe(true);
    const m = /^aborted by the signal at epoch (\d+), batch (\d+)$/.exec(r.history.stopReason ?? '');
    expect(m).not.toBe(null);
    const [epoch, batch] = [Number(m![1]), Number(m![2])];
    const trained = (epoch - 1) * 6 + batch;
    expect(trained).toBeGreaterThanOrEqual(8);
    expect(trained).toBeLessThan(50 * 6);
    expect(r.history.epochs.length).toBe(epoch); // the stopped epoch ends as fit ends it
    // fit() on this thread, stopped by a callback after the same number of batches, gives the same weights.
    const here = deserialize(serialize(model));
    let n = 0;
    await here.fit(x, y, { ...OPTS, epochs: 50, verbose: 0, callbacks: { onBatchEnd: () => ++n < trained } });
    expect(n).toBe(trained);
    expect(weights(r.model)).toEqual(weights(here));
  });
});

describe('fitInWorker: errors, refusals, and no worker left behind', () => {
  it('a signal already aborted rejects with its reason (AbortError), and no worker starts', async () => {
    const { x, y } = data();
    const ac = new AbortController();
    ac.abort();
    const e = await fitInWorker(mlp(), x, y, { ...OPTS, signal: ac.signal }).catch((err: Error) => err);
    expect((e as Error).name).toBe('AbortError');
    const reason = new Error('shutting down');
    await expect(fitInWorker(mlp(), x, y, { ...OPTS, signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });

  it('errors inside the worker reject with the worker\'s message', async () => {
    const { x, y } = data();
    await expect(fitInWorker(mlp(), x, y, { ...OPTS, loss: 'crossEntropyy' as 'crossEntropy' })).rejects.toThrow(/unknown loss 'crossEntropyy'/);
    await expect(fitInWorker(mlp(), x, y, { ...OPTS, epochs: -1 })).rejects.toThrow(/^fathom\.fit: epochs must be an integer >= 0, got -1$/);
    // Data that does not fit the model: fit's own message, naming the shapes; the worker's stack as the cause.
    const wide = new Tensor(new Float32Array(96 * 5), [96, 5]);
    const e = await fitInWorker(mlp(), wide, y, OPTS).catch((err: Error) => err);
    expect((e as Error).message).toMatch(/^fathom\.fit: the training data \(x \[96, 5\], y \[96\]\) does not fit Sequential/);
    expect(((e as Error).cause as Error).stack).toMatch(/fit-worker\.js/);
    // Bytes that are not a model.
    await expect(fitInWorker(new Uint8Array(16), x, y, OPTS)).rejects.toThrow(/^fathom\.deserialize: safetensors: /);
  });

  it('an error thrown by a progress callback on this thread rejects, and the worker is terminated', async () => {
    const { x, y } = data();
    const boom = new Error('callback failed');
    await expect(fitInWorker(mlp(), x, y, { ...OPTS, epochs: 100, onEpochEnd: (e) => { if (e === 1) throw boom; } })).rejects.toBe(boom);
  });

  it('refuses what cannot cross threads, naming the option, before starting a worker', async () => {
    const { x, y } = data();
    const model = mlp();
    const opt = new optim.Adam(model.parameters());
    const cases: [object, RegExp][] = [
      [{ loss: (p: Tensor) => p.sum() }, /^fathom\.fitInWorker: options\.loss: a loss function cannot cross threads; give the loss by name/],
      [{ callbacks: { onEpochEnd: () => {} } }, /^fathom\.fitInWorker: options\.callbacks: callbacks are functions, which cannot cross threads; use onEpochEnd/],
      [{ progress: { batch() {}, epoch() {} } }, /^fathom\.fitInWorker: options\.progress: /],
      // An Optimizer crosses as its state, with its model: one over another model's parameters is refused.
      [{ optimizer: new optim.Adam(mlp().parameters()) }, /^fathom\.fitInWorker: parameter 0 of the Adam optimizer is not a parameter of this model/],
      [{ optimizer: {} }, /^fathom\.fitInWorker: options\.optimizer must be an optimizer's name \(e\.g\. 'adam'\) or an Optimizer over the model's parameters, got/],
      [{ lrScheduler: new optim.lrScheduler.StepLR(opt, { stepSize: 1 }) }, /^fathom\.fitInWorker: options\.lrScheduler: a scheduler instance/],
      [{ lrScheduler: { type: 'LambdaLR', lrLambda: () => 1 } }, /^fathom\.fitInWorker: options\.lrScheduler\.type must be one of StepLR, .*got "LambdaLR"/],
      [{ metrics: ['accuracy', (p: Tensor) => p.sum().item()] }, /^fathom\.fitInWorker: options\.metrics\[1\]: a metric function cannot cross threads/],
      [{ metrics: [{ name: 'mine', fn: () => 1 }] }, /options\.metrics\[0\]: a metric function/],
      [{ lrScheduler: { type: 'StepLR', stepSize: () => 1 } }, /^fathom\.fitInWorker: options\.lrScheduler\.stepSize is a function, which cannot cross threads/],
      [{ epoch: 3 }, /^fathom\.fitInWorker: unknown option 'epoch' \(did you mean 'epochs'\?\)/],
      [{ signal: { aborted: false } }, /^fathom\.fitInWorker: options\.signal must be an AbortSignal/],
      [{ validationData: [x] }, /options\.validationData must be \[x, y\]/],
    ];
    for (const [o, re] of cases) await expect(fitInWorker(model, x, y, { ...OPTS, ...o } as object)).rejects.toThrow(re);
    await expect(fitInWorker({} as nn.Module, x, y, OPTS)).rejects.toThrow(/^fathom\.fitInWorker: modelOrBytes must be an nn\.Module or the bytes of serialize\(model\)/);
    await expect(fitInWorker(model, 1 as unknown as Tensor, y, OPTS)).rejects.toThrow(/^fathom\.fitInWorker: x must be a Tensor/);
    await expect(fitInWorker(model, [1] as unknown as Tensor, y, OPTS)).rejects.toThrow(/^fathom\.fitInWorker: x\[0\] must be a Tensor/);
  });

  it('shares x and y: a tensor already in shared memory is sent as is, the caller\'s ordinary tensors stay usable', async () => {
    const { x, y } = data();
    const sx = shareMemory(x);
    const r = await fitInWorker(mlp(), sx, y, { ...OPTS, epochs: 1, validationData: [x.slice(0, 20), y.slice(0, 20)] });
    expect(r.history.history.loss.length).toBe(1);
    expect(r.history.history.valLoss?.length).toBe(1);
    expect(y.data.length).toBe(96); // not transferred away
    expect(x.data.length).toBe(96 * 4);
  });

  it('custom layers: `imports` runs the module that registers them in the worker; without it, the worker says what is missing', async () => {
    registerScale();
    manualSeed(3);
    const model = new nn.Sequential(new nn.Linear(4, 16), new nn.Tanh(), new Scale(16), new nn.Linear(16, 3));
    const { x, y } = data();
    await expect(fitInWorker(model, x, y, { ...OPTS, epochs: 1 })).rejects.toThrow(/fathom\.deserialize: cannot rebuild the architecture: .*unknown module type 'Scale' \(register it with nn\.registerModuleType\)/);
    await expect(fitInWorker(model, x, y, { ...OPTS, imports: ['./fixtures/scale-layer.mjs'] })).rejects.toThrow(/options\.imports\[0\] is relative/);
    const r = await fitInWorker(model, x, y, { ...OPTS, epochs: 2, imports: [new URL('./fixtures/scale-layer.mjs', import.meta.url)] });
    expect(r.model.stateDict()['2.scale'].data.some((v) => v !== 1)).toBe(true); // the custom layer's parameter trained
    const here = deserialize(serialize(model));
    await here.fit(x, y, { ...OPTS, epochs: 2, verbose: 0 });
    expect(weights(r.model)).toEqual(weights(here));
  });

  it('runs from the compiled package as installed (dist/index.js finds dist/serve/fit-worker.js next to it)', () => {
    const entry = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'index.js')).href;
    const script = `
      const { fitInWorker, nn, manualSeed, randn, tensor } = await import(${JSON.stringify(entry)});
      manualSeed(1);
      const x = randn([32, 3]), y = tensor(Int32Array.from({ length: 32 }, (_, i) => i % 2));
      const r = await fitInWorker(new nn.Linear(3, 2), x, y, { loss: 'crossEntropy', epochs: 2, batchSize: 8, seed: 1 });
      console.log(JSON.stringify({ epochs: r.history.epochs, type: r.model.constructor.name }));`;
    const dir = mkdtempSync(join(tmpdir(), 'fathom-fit-worker-'));
    try {
      writeFileSync(join(dir, 'main.mjs'), script);
      const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ epochs: [0, 1], type: 'Linear' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(process.platform === 'linux')('reuses one idle worker between calls and leaves no thread behind (the process\'s OS threads)', async () => {
    const threads = (): number => readdirSync('/proc/self/task').length;
    const { x, y } = data();
    await fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1, idleTimeoutMs: 0 }); // warm-up: the native pool and V8's helpers exist now
    const none = threads();
    expect(liveWorkers.size).toBe(0); // idleTimeoutMs 0: terminated before the promise settled
    const started = fitWorkerStats.started;
    await fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1 });
    const base = threads(); // one idle worker
    expect(base).toBeGreaterThan(none);
    expect(idleFitWorkers()).toBe(1);
    for (let i = 0; i < 3; i++) await fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1 });
    expect(fitWorkerStats.started - started).toBe(1); // the same worker every time
    expect(threads()).toBe(base);
    // A call that rejects ends its worker (its state is unknown): no thread is left.
    await fitInWorker(mlp(), x, y, { ...OPTS, loss: 'nope' as 'mse' }).catch(() => {});
    expect(idleFitWorkers()).toBe(0);
    expect(threads()).toBe(none);
    // Two at once: two workers; both kept idle (at most two), then ended by closeWorkers.
    await Promise.all([fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1 }), fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1 })]);
    expect(fitWorkerStats.started - started).toBe(3);
    expect(idleFitWorkers()).toBe(2);
    await closeWorkers();
    expect(threads()).toBe(none);
  });

  it('an idle worker ends by itself after idleTimeoutMs', async () => {
    const { x, y } = data();
    await fitInWorker(mlp(), x, y, { ...OPTS, epochs: 1, idleTimeoutMs: 1 });
    while (liveWorkers.size > 0) await new Promise((r) => setTimeout(r, 5));
    expect(idleFitWorkers()).toBe(0);
    await expect(fitInWorker(mlp(), x, y, { ...OPTS, idleTimeoutMs: -1 })).rejects.toThrow(/^fathom\.fitInWorker: options\.idleTimeoutMs must be a number of milliseconds in \[0, 2\^31 - 1\], got -1/);
  });
});
