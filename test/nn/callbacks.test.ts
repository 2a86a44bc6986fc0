/**
 * Keras's callbacks (EarlyStopping, ModelCheckpoint, LearningRateScheduler,
 * CSVLogger, TerminateOnNaN), the hooks fit gives them, and fit's lrScheduler.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { callbacks, load, loadCheckpoint, manualSeed, nn, optim, randn, tensor, type Logs, type Tensor } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-cb-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

/** Records every parameter's values at the end of each epoch (runs before the callbacks listed after it). */
class WeightLog extends callbacks.Callback {
  epochs: Float32Array[][] = [];
  onEpochEnd(): void {
    this.epochs.push(this.model!.parameters().map((p) => (p.data as Float32Array).slice()));
  }
}
const weightsOf = (m: nn.Module) => m.parameters().map((p) => (p.data as Float32Array).slice());
const argmin = (v: number[]) => v.indexOf(Math.min(...v));

/**
 * w·x trained towards y = 2x from w = 0 by full-batch SGD: w_k = 2 − 2·0.7^k
 * (0.6, 1.02, 1.314, …), validated on y = x, so valLoss ∝ (w − 1)² is lowest
 * after the 2nd epoch (index 1) and rises after.
 */
function towardsTwo(): { model: nn.Linear; fitOpts: object } {
  const model = new nn.Linear(1, 1, { bias: false });
  (model.weight.data as Float32Array)[0] = 0;
  const x = tensor([[1], [-1], [2], [-2]]); // mean x² = 2.5
  const y = x.mul(2);
  // mse gradient 2·(w − 2)·2.5 → w ← w − lr·5·(w − 2); lr = 0.06 gives the factor 0.7.
  return { model, fitOpts: { x, y, opts: { loss: 'mse', optimizer: 'sgd', lr: 0.06, batchSize: 4, shuffle: false, verbose: 0, validationData: [x, x.mul(1)] } } };
}

describe('EarlyStopping (Keras 3 rules)', () => {
  it('restoreBestWeights leaves exactly the weights of the epoch with the lowest valLoss, also when training runs to the end', async () => {
    // An MLP that over-fits 16 noisy points: the validation loss falls, then rises.
    manualSeed(21);
    const x = randn([16, 2]);
    const y = x.sum(1, true).tanh().add(randn([16, 1]).mul(0.5));
    const xv = randn([64, 2]);
    const yv = xv.sum(1, true).tanh();
    const model = new nn.Sequential(new nn.Linear(2, 64), new nn.Tanh(), new nn.Linear(64, 64), new nn.Tanh(), new nn.Linear(64, 1));
    const log = new WeightLog();
    const es = new callbacks.EarlyStopping({ patience: 1000, restoreBestWeights: true });
    const h = await model.fit(x, y, { loss: 'mse', lr: 0.01, epochs: 40, batchSize: 4, seed: 3, verbose: 0, validationData: [xv, yv], callbacks: [log, es] });
    expect(h.epochs.length).toBe(40); // not stopped
    const best = argmin(h.history.valLoss!);
    // The test means something only if the best epoch is not the last one.
    expect(best).toBeLessThan(30);
    expect(es.bestEpoch).toBe(best);
    expect(es.best).toBe(h.history.valLoss![best]);
    const now = weightsOf(model);
    log.epochs[best].forEach((w, i) => expect(Buffer.from(now[i].buffer).equals(Buffer.from(w.buffer))).toBe(true));
    expect(Buffer.from(now[0].buffer).equals(Buffer.from(log.epochs[39][0].buffer))).toBe(false);
    // The restored weights give the best epoch's valLoss again.
    expect((await model.evaluate(xv, yv)).loss).toBeCloseTo(h.history.valLoss![best], 6);
  });

  it('stops after patience epochs without improvement, restores the best epoch, and says why', async () => {
    const { model, fitOpts } = towardsTwo();
    const { x, y, opts } = fitOpts as { x: Tensor; y: Tensor; opts: object };
    const log = new WeightLog();
    const es = new callbacks.EarlyStopping({ monitor: 'valLoss', patience: 2, restoreBestWeights: true });
    const h = await model.fit(x, y, { ...opts, epochs: 20, callbacks: [log, es] });
    // Best at epoch 1; epochs 2 and 3 do not improve → stop after epoch 3 (index), 4 epochs run.
    expect(argmin(h.history.valLoss!)).toBe(1);
    expect(h.epochs).toEqual([0, 1, 2, 3]);
    expect(es.stoppedEpoch).toBe(3);
    expect(h.stopReason).toMatch(/EarlyStopping: valLoss did not improve for 2 epochs \(best .* at epoch 2\); stopped after epoch 4/);
    expect(model.weight.data[0]).toBe(log.epochs[1][0][0]);
    expect(model.weight.data[0]).toBeCloseTo(1.02, 5);
  });

  it('without restoreBestWeights the last epoch\'s weights stay', async () => {
    const { model, fitOpts } = towardsTwo();
    const { x, y, opts } = fitOpts as { x: Tensor; y: Tensor; opts: object };
    const log = new WeightLog();
    await model.fit(x, y, { ...opts, epochs: 20, callbacks: [log, new callbacks.EarlyStopping({ patience: 2 })] });
    expect(model.weight.data[0]).toBe(log.epochs[3][0][0]);
  });

  /** Feeds a sequence of monitored values to the callback as fit would; returns the epoch it stopped after, or -1. */
  function feed(es: callbacks.EarlyStopping, values: number[], key = 'loss'): number {
    const ctx = { model: new nn.Linear(1, 1), optimizer: null as never, epochs: values.length, batches: 1, stopTraining: false };
    es.setModel(ctx.model, ctx);
    es.onTrainBegin();
    for (const [e, v] of values.entries()) {
      es.onEpochEnd(e, { loss: 0, [key]: v } as Logs);
      if (ctx.stopTraining) return e;
    }
    return -1;
  }

  it('patience, minDelta, mode, baseline and startFromEpoch as Keras counts them', () => {
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss' }), [3, 2, 2.5])).toBe(2);
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss' }), [3, 2, 2])).toBe(2); // equal is no improvement
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', patience: 1 }), [3, 2, 2.5, 1, 1.5, 1.6])).toBe(2);
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', patience: 2 }), [3, 2, 2.5, 1, 1.5, 1.6])).toBe(5);
    // minDelta: 3 → 2.6 is an improvement of 0.4 < 0.5: none.
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', minDelta: 0.5 }), [3, 2.6])).toBe(1);
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', minDelta: -0.5 }), [3, 2.6])).toBe(1); // |minDelta|
    // 'auto' on an accuracy key maximises.
    expect(feed(new callbacks.EarlyStopping({ monitor: 'valAccuracy' }), [0.5, 0.6, 0.55], 'valAccuracy')).toBe(2);
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', mode: 'max' }), [0.5, 0.6, 0.55])).toBe(2);
    // baseline: improvements that do not beat it do not reset the count (Keras 3), so epoch 3 stops.
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', patience: 2, baseline: 1 }), [3, 2.5, 2.2, 2.3])).toBe(3);
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', patience: 2 }), [3, 2.5, 2.2, 2.3])).toBe(-1);
    // startFromEpoch: epochs before it are not watched.
    expect(feed(new callbacks.EarlyStopping({ monitor: 'loss', startFromEpoch: 2 }), [1, 2, 3, 4])).toBe(3);
    // Never on the first watched epoch, and one instance serves several fits.
    const es = new callbacks.EarlyStopping({ monitor: 'loss' });
    expect(feed(es, [5])).toBe(-1);
    expect(feed(es, [1, 2])).toBe(1);
  });

  it('a monitor missing from the logs: one warning listing the keys there are, and no stop', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const m = new nn.Linear(2, 1);
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', epochs: 3, verbose: 0, callbacks: [new callbacks.EarlyStopping()] });
    expect(h.epochs.length).toBe(3);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(String(warn.mock.calls[0][0])).toMatch(/EarlyStopping: early stopping watches 'valLoss', which is not in the logs; available: loss \(validation keys need validationData or validationSplit\)/);
  });

  it('names bad options; auto cannot guess an unknown key', () => {
    expect(() => new callbacks.EarlyStopping({ patience: -1 })).toThrow(/fathom.callbacks.EarlyStopping: patience must be an integer >= 0, got -1/);
    expect(() => new callbacks.EarlyStopping({ mode: 'up' as never })).toThrow(/mode must be 'auto', 'min' or 'max', got "up"/);
    expect(() => new callbacks.EarlyStopping({ monitor: 'myScore' })).toThrow(/cannot tell whether 'myScore' should go up or down; pass mode: 'min' or 'max'/);
    expect(() => new callbacks.EarlyStopping({ restoreBest: true } as never)).toThrow(/unknown option 'restoreBest' \(did you mean 'restoreBestWeights'\?\)/);
    expect(new callbacks.EarlyStopping({ monitor: 'myScore', mode: 'max' }).mode).toBe('max');
  });
});

describe('ModelCheckpoint', () => {
  it('saveBestOnly writes only improving epochs, atomically, with the path formatted as Keras does', async () => {
    const { model, fitOpts } = towardsTwo();
    const { x, y, opts } = fitOpts as { x: Tensor; y: Tensor; opts: object };
    const sub = mkdtempSync(join(dir, 'ckpt-'));
    const log = new WeightLog();
    const ck = new callbacks.ModelCheckpoint({ path: join(sub, 'm-{epoch:02d}-{valLoss:.4f}.safetensors'), saveBestOnly: true });
    const h = await model.fit(x, y, { ...opts, epochs: 5, callbacks: [log, ck] });
    const files = readdirSync(sub).sort();
    // Epochs 1 and 2 (1-based) improve valLoss; 3-5 do not. No temporary files are left.
    expect(files).toEqual([
      `m-01-${h.history.valLoss![0].toFixed(4)}.safetensors`,
      `m-02-${h.history.valLoss![1].toFixed(4)}.safetensors`,
    ]);
    expect(ck.lastPath).toBe(join(sub, files[1]));
    const best = await load(ck.lastPath!);
    expect(best.parameters()[0].data[0]).toBe(log.epochs[1][0][0]);
  });

  it('saves every epoch by default; names unknown path fields with the keys there are', async () => {
    const sub = mkdtempSync(join(dir, 'ckpt-'));
    const m = new nn.Linear(2, 1);
    await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', epochs: 3, verbose: 0, callbacks: [new callbacks.ModelCheckpoint({ path: join(sub, 'e{epoch}.safetensors') })] });
    expect(readdirSync(sub).sort()).toEqual(['e1.safetensors', 'e2.safetensors', 'e3.safetensors']);
    await expect(m.fit(randn([8, 2]), randn([8, 1]), { epochs: 1, verbose: 0, callbacks: [new callbacks.ModelCheckpoint({ path: join(sub, '{val_loss}.safetensors') })] }))
      .rejects.toThrow(/fathom.callbacks.ModelCheckpoint: the path has \{val_loss\}, which is not epoch or a log key; available: loss, epoch/);
    expect(() => new callbacks.ModelCheckpoint({} as never)).toThrow(/options.path is required/);
  });

  it('creates a missing folder (as Keras); takes the path first as Keras\'s filepath', async () => {
    const sub = mkdtempSync(join(dir, 'ckpt-'));
    const m = new nn.Linear(2, 1);
    const cb = new callbacks.ModelCheckpoint(join(sub, 'a', 'b', 'e{epoch}.safetensors'), { saveWeightsOnly: true });
    await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', epochs: 2, verbose: 0, callbacks: [cb] });
    expect(readdirSync(join(sub, 'a', 'b')).sort()).toEqual(['e1.safetensors', 'e2.safetensors']);
    expect(() => new callbacks.ModelCheckpoint('x.safetensors', { path: 'y' } as never)).toThrow(/the path is given twice/);
    expect(() => new callbacks.ModelCheckpoint({ path: 'x' }, {} as never)).toThrow(/a second argument \(options\) goes with a path as the first/);
  });
});

describe('LearningRateScheduler, CSVLogger', () => {
  it('LearningRateScheduler sets the rate each epoch from (epoch, lr) and logs it as lr', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const seen: [number, number][] = [];
    const sched = new callbacks.LearningRateScheduler((epoch, lr) => {
      seen.push([epoch, lr]);
      return epoch < 1 ? lr : lr / 2;
    });
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 3, verbose: 0, callbacks: [sched] });
    expect(seen.map(([e, lr]) => [e, +lr.toFixed(6)])).toEqual([[0, 0.1], [1, 0.1], [2, 0.05]]);
    expect(h.history.lr!.map((v) => +v.toFixed(6))).toEqual([0.1, 0.05, 0.025]);
    expect(opt.lr).toBeCloseTo(0.025, 9);
    await expect(m.fit(randn([8, 2]), randn([8, 1]), { optimizer: opt, verbose: 0, callbacks: [new callbacks.LearningRateScheduler(() => NaN)] }))
      .rejects.toThrow(/LearningRateScheduler: the schedule returned NaN for epoch 0; it must return a finite number >= 0/);
  });

  it('CSVLogger writes a header and one row per epoch; append keeps the file and its header', async () => {
    const path = join(dir, 'log.csv');
    const m = new nn.Linear(2, 1);
    const x = randn([10, 2]);
    const y = randn([10, 1]);
    const h = await m.fit(x, y, { loss: 'mse', epochs: 2, verbose: 0, validationSplit: 0.2, callbacks: [new callbacks.CSVLogger(path)] });
    let lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toEqual(['epoch,loss,valLoss', `0,${h.history.loss[0]},${h.history.valLoss![0]}`, `1,${h.history.loss[1]},${h.history.valLoss![1]}`]);
    await m.fit(x, y, { epochs: 1, verbose: 0, validationSplit: 0.2, callbacks: [new callbacks.CSVLogger(path, { append: true })] });
    lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines.length).toBe(4);
    expect(lines[3]).toMatch(/^0,/);
    // Without append the file is replaced.
    await m.fit(x, y, { epochs: 1, verbose: 0, callbacks: [new callbacks.CSVLogger(path, { separator: ';' })] });
    expect(readFileSync(path, 'utf8').split('\n')[0]).toBe('epoch;loss');
    writeFileSync(join(dir, 'empty.csv'), '');
    await m.fit(x, y, { epochs: 1, verbose: 0, callbacks: [new callbacks.CSVLogger(join(dir, 'empty.csv'), { append: true })] });
    expect(readFileSync(join(dir, 'empty.csv'), 'utf8').split('\n')[0]).toBe('epoch,loss');
  });
});

describe('TerminateOnNaN and stopping from a batch', () => {
  /** 12 rows, batches of 4 unshuffled: row 9 is NaN, so batch 3 (index 2) of each epoch has a NaN loss. */
  function nanData(): [Tensor, Tensor] {
    manualSeed(31);
    const x = randn([12, 2]);
    (x.data as Float32Array)[9 * 2] = NaN;
    return [x, randn([12, 1])];
  }

  it('stops at the batch whose loss is NaN, without applying it, and names the epoch and batch', async () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    const [x, y] = nanData();
    const m = new nn.Linear(2, 1);
    let afterBatch2: Float32Array | null = null;
    const t = new callbacks.TerminateOnNaN();
    const h = await m.fit(x, y, {
      loss: 'mse', epochs: 3, batchSize: 4, shuffle: false, verbose: 0,
      callbacks: [{ onBatchEnd: (b: number) => { if (b === 1) afterBatch2 = (m.weight.data as Float32Array).slice(); } }, t],
    });
    expect(t.stoppedAt).toEqual({ epoch: 0, batch: 2 });
    expect(h.epochs).toEqual([0]);
    expect(h.history.loss[0]).toBeNaN();
    expect(h.stopReason).toBe('TerminateOnNaN: the loss became NaN at epoch 1, batch 3; training stopped (that batch was not applied)');
    expect(String(warn.mock.calls[0][0])).toBe(h.stopReason);
    expect([...m.weight.data]).toEqual([...afterBatch2!]);
  });

  it('without it, a NaN loss rejects as before', async () => {
    const [x, y] = nanData();
    await expect(new nn.Linear(2, 1).fit(x, y, { loss: 'mse', batchSize: 4, shuffle: false, verbose: 0 }))
      .rejects.toThrow(/fathom.fit: the loss became NaN at epoch 1, batch 3; lower the learning rate or check the data \(callbacks.TerminateOnNaN\(\) stops training instead\)/);
  });

  it('onBatchEnd returning false stops after that batch; the epoch is still validated and recorded', async () => {
    const m = new nn.Linear(2, 1);
    let batches = 0;
    const h = await m.fit(randn([40, 2]), randn([40, 1]), {
      loss: 'mse', epochs: 5, batchSize: 4, verbose: 0, validationSplit: 0.25,
      callbacks: { onBatchEnd: (b) => { batches++; return b < 2; } },
    });
    expect(batches).toBe(3);
    expect(h.epochs).toEqual([0]);
    expect(h.history.valLoss!.length).toBe(1);
  });

  it('callbacks get the model and the fit context (optimizer, epochs, batches) before onTrainBegin', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.Adam(m.parameters());
    const got: unknown[] = [];
    class Probe extends callbacks.Callback {
      onTrainBegin(): void { got.push(this.model, this.context!.optimizer, this.context!.epochs, this.context!.batches); }
      onEpochEnd(e: number): void { if (e === 1) this.context!.stopTraining = true; }
    }
    const h = await m.fit(randn([10, 2]), randn([10, 1]), { loss: 'mse', optimizer: opt, epochs: 4, batchSize: 4, verbose: 0, callbacks: [new Probe()] });
    expect(got).toEqual([m, opt, 4, 3]);
    expect(h.epochs).toEqual([0, 1]);
  });
});

describe('fit({ lrScheduler })', () => {
  /** A scheduler halving every group's lr per step (the LRSchedulerLike shape). */
  function halving(opt: optim.SGD, needsMetric = false) {
    const metrics: (number | undefined)[] = [];
    return {
      optimizer: opt,
      needsMetric,
      steps: 0,
      metrics,
      step(metric?: number) { this.steps++; metrics.push(metric); opt.lr = opt.lr / 2; },
      getLastLr() { return [opt.lr]; },
    };
  }

  it("steps per epoch and logs lr (the rate the epoch's steps used)", async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.8 });
    const s = halving(opt);
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 3, batchSize: 4, verbose: 0, lrScheduler: s });
    expect(s.steps).toBe(3);
    expect(h.history.lr).toEqual([0.8, 0.4, 0.2]);
    expect(opt.lr).toBe(0.1);
  });

  it("steps per batch with lrSchedulerInterval 'batch'", async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 1 });
    const s = halving(opt);
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 2, batchSize: 4, verbose: 0, lrScheduler: s, lrSchedulerInterval: 'batch' });
    expect(s.steps).toBe(4);
    expect(h.history.lr).toEqual([0.5, 0.125]);
  });

  it('a metric-driven scheduler gets valLoss, else loss, else the named key', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.01 });
    let s = halving(opt, true);
    let h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 2, verbose: 0, validationSplit: 0.25, lrScheduler: s });
    expect(s.metrics).toEqual(h.history.valLoss);
    s = halving(opt, true);
    h = await m.fit(randn([8, 2]), randn([8, 1]), { optimizer: opt, epochs: 2, verbose: 0, lrScheduler: s });
    expect(s.metrics).toEqual(h.history.loss);
    s = halving(opt, true);
    h = await m.fit(randn([8, 2]), randn([8, 1]), { optimizer: opt, epochs: 2, verbose: 0, lrScheduler: s, metrics: ['mae'], lrSchedulerMonitor: 'mae' });
    expect(s.metrics).toEqual(h.history.mae);
    await expect(m.fit(randn([8, 2]), randn([8, 1]), { optimizer: opt, verbose: 0, lrScheduler: halving(opt, true), lrSchedulerMonitor: 'valF1' }))
      .rejects.toThrow(/fathom.fit: lrSchedulerMonitor 'valF1' is not in the logs; available: loss/);
  });

  it('names misuse', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.01 });
    const fit = (o: object) => m.fit(randn([4, 2]), randn([4, 1]), { loss: 'mse', verbose: 0, ...o });
    await expect(fit({ optimizer: opt, lrScheduler: halving(opt, true), lrSchedulerInterval: 'batch' })).rejects.toThrow(/steps on a metric once per epoch; lrSchedulerInterval 'batch' is not possible/);
    await expect(fit({ optimizer: 'sgd', lrScheduler: halving(opt) })).rejects.toThrow(/the lrScheduler schedules another optimizer than this fit's SGD/);
    await expect(fit({ lrScheduler: { step: 1 } })).rejects.toThrow(/lrScheduler must be a scheduler with step\(\) and getLastLr\(\)/);
    await expect(fit({ optimizer: opt, lrScheduler: halving(opt), lrSchedulerInterval: 'step' })).rejects.toThrow(/lrSchedulerInterval must be 'epoch' or 'batch', got "step"/);
    await expect(fit({ lrSchedulerInterval: 'batch' })).rejects.toThrow(/lrSchedulerInterval was given without an lrScheduler/);
  });
});

describe('fit with optim.lrScheduler (the real schedulers)', () => {
  it('StepLR per epoch: history.lr is PyTorch\'s sequence', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1 });
    const s = new optim.lrScheduler.StepLR(opt, { stepSize: 2, gamma: 0.1 });
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 5, verbose: 0, lrScheduler: s });
    expect(h.history.lr!.map((v) => +v.toPrecision(6))).toEqual([0.1, 0.1, 0.01, 0.01, 0.001]);
    expect(s.getLastLr()[0]).toBeCloseTo(1e-3, 12); // after 5 steps: 0.1 · 0.1^⌊5/2⌋
  });

  it('OneCycleLR per batch runs exactly its totalSteps, ending at its final rate', async () => {
    const m = new nn.Linear(2, 1);
    const opt = new optim.SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const s = new optim.lrScheduler.OneCycleLR(opt, { maxLr: 1, epochs: 3, stepsPerEpoch: 2 });
    // A twin stepped by hand gives the rates each step used.
    const twinOpt = new optim.SGD(new nn.Linear(2, 1).parameters(), { lr: 0.1, momentum: 0.9 });
    const twin = new optim.lrScheduler.OneCycleLR(twinOpt, { maxLr: 1, epochs: 3, stepsPerEpoch: 2 });
    const used: number[] = [];
    for (let i = 0; i < 6; i++) { used.push(twinOpt.lr); if (i < 5) twin.step(); }
    const h = await m.fit(randn([8, 2]), randn([8, 1]), { loss: 'mse', optimizer: opt, epochs: 3, batchSize: 4, verbose: 0, lrScheduler: s, lrSchedulerInterval: 'batch' });
    // Each epoch's lr is the rate its last step used: steps 2, 4, 6.
    expect(h.history.lr).toEqual([used[1], used[3], used[5]]);
  });

  it('ReduceLROnPlateau gets valLoss: the rate drops after the first epoch that does not improve', async () => {
    const { model, fitOpts } = towardsTwo();
    const { x, y, opts } = fitOpts as { x: Tensor; y: Tensor; opts: { lr?: number } };
    const opt = new optim.SGD(model.parameters(), { lr: 0.06 });
    const s = new optim.lrScheduler.ReduceLROnPlateau(opt, { patience: 0, factor: 0.5 });
    const { lr: _lr, ...rest } = opts;
    const h = await model.fit(x, y, { ...rest, optimizer: opt, epochs: 4, lrScheduler: s });
    // valLoss: falls at epoch 1, rises at epoch 2 → the rate is halved for epoch 3 (index).
    expect(argmin(h.history.valLoss!)).toBe(1);
    expect(h.history.lr!.map((v) => +v.toPrecision(6))).toEqual([0.06, 0.06, 0.06, 0.03]);
  });
});

describe('ModelCheckpoint + loadCheckpoint + initialEpoch', () => {
  it('resuming from the epoch-2 checkpoint gives the same weights as 4 uninterrupted epochs', async () => {
    const sub = mkdtempSync(join(dir, 'resume-'));
    manualSeed(41);
    const x = randn([40, 3]);
    const y = randn([40, 2]);
    const run = async (epochs: number, cbs: callbacks.Callback[]) => {
      manualSeed(42);
      const model = new nn.Sequential(new nn.Linear(3, 8), new nn.Tanh(), new nn.Linear(8, 2));
      const opt = new optim.Adam(model.parameters(), { lr: 0.01 });
      await model.fit(x, y, { loss: 'mse', optimizer: opt, epochs, batchSize: 8, seed: 5, verbose: 0, callbacks: cbs });
      return model;
    };
    const full = await run(4, []);
    await run(2, [new callbacks.ModelCheckpoint({ path: join(sub, 'e{epoch}.safetensors') })]);
    const { model, optimizer } = await loadCheckpoint(join(sub, 'e2.safetensors'));
    expect(optimizer).not.toBeNull();
    await model.fit(x, y, { loss: 'mse', optimizer, epochs: 4, initialEpoch: 2, batchSize: 8, seed: 5, verbose: 0 });
    const a = full.parameters();
    model.parameters().forEach((p, i) => expect([...p.data]).toEqual([...a[i].data]));
    // saveWeightsOnly: the model without the optimizer.
    await run(1, [new callbacks.ModelCheckpoint({ path: join(sub, 'w.safetensors'), saveWeightsOnly: true })]);
    await expect(loadCheckpoint(join(sub, 'w.safetensors'))).rejects.toThrow(/holds no optimizer state \(it was saved without \{ optimizer \}\); load the model with load\(path\)/);
  });
});
