// fitInWorker resumes training (lib/serve/fit.ts): the optimizer's state goes in (an Optimizer over the
// model's parameters, or bytes of serialize(model, { optimizer })) and comes back (result.optimizer,
// result.lrSchedulerState), so two fitInWorker calls in a row train exactly what one fit() of all the
// epochs trains — bit for bit, with Adam and a one-cycle schedule stepped per batch. And a model of
// several inputs and outputs trains in a worker with a loss per output, lossWeights and per-output
// metrics, exactly as fit() trains it on this thread.
//
// The worker runs the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { deserialize, deserializeCheckpoint, fitInWorker, manualSeed, nn, optim, serialize, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { fitWorkerStats, idleFitWorkers, liveWorkers } from '../../lib/serve/fit.js';
import { closeWorkers } from '../../lib/serve/snapshot.js';
import { twoHeadsData } from '../multifit/models.js';
import { data, mlp } from '../helpers/classes.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const bits = (m: nn.Module): number[] => m.namedState().flatMap(([, t]) => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size)));

/** image [4] and meta [2] → a trunk → 'digit' logits [3] and 'size' [1]. */
function graph(): nn.Model {
  manualSeed(4);
  const image = nn.input([4], { name: 'image' });
  const meta = nn.input([2], { name: 'meta' });
  const h = new nn.ReLU().apply(new nn.Linear(6, 8).apply(new nn.Concatenate().apply([image, meta])));
  return new nn.Model({ inputs: [image, meta], outputs: [new nn.Linear(8, 3).apply(h, { name: 'digit' }), new nn.Linear(8, 1).apply(h, { name: 'size' })] });
}

afterEach(async () => {
  expect(liveWorkers.size).toBe(idleFitWorkers()); // only idle workers, kept warm for the next call
  await closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('fitInWorker resumes (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('two calls (Adam, OneCycleLR per batch) equal one fit() of both epochs bit for bit; so does resuming from checkpoint bytes', async () => {
    const { x, y } = data();
    const model = mlp();
    const steps = Math.ceil(72 / 16); // validationSplit 0.25 of 96 rows, batches of 16
    const schedule = { maxLr: 0.05, totalSteps: 3 * steps };
    const common = { loss: 'crossEntropy', batchSize: 16, seed: 7, validationSplit: 0.25, lrSchedulerInterval: 'batch' } as const;
    // One fit() of three epochs on this thread.
    const here = deserialize(serialize(model));
    const opt = new optim.Adam(here.parameters(), { lr: 0.02 });
    const h = await here.fit(x, y, { ...common, optimizer: opt, epochs: 3, verbose: 0, lrScheduler: new optim.lrScheduler.OneCycleLR(opt, schedule) });
    // Epoch 1 in a worker, then epochs 2 and 3 in another, resuming the returned optimizer and schedule.
    const lrScheduler = { type: 'OneCycleLR', ...schedule } as const;
    const r1 = await fitInWorker(model, x, y, { ...common, optimizer: 'adam', lr: 0.02, epochs: 1, lrScheduler });
    expect(r1.optimizer).toBeInstanceOf(optim.Adam);
    expect(r1.optimizer.params).toEqual(r1.model.parameters());
    expect(r1.optimizer.steps).toBe(steps);
    expect(r1.lrSchedulerState?.lastEpoch).toBe(steps);
    const r2 = await fitInWorker(r1.model, x, y, { ...common, optimizer: r1.optimizer, epochs: 3, initialEpoch: 1, lrScheduler, lrSchedulerState: r1.lrSchedulerState });
    expect(bits(r2.model)).toEqual(bits(here));
    expect([...r1.history.history.loss, ...r2.history.history.loss]).toEqual(h.history.loss);
    expect([...r1.history.history.lr!, ...r2.history.history.lr!]).toEqual(h.history.lr);
    expect(r2.optimizer.steps).toBe(3 * steps);
    expect(r2.optimizer.stateDict()).toEqual(opt.stateDict()); // moments, step counts, groups (lr, betas, initialLr)
    // The same resume from the bytes of a checkpoint (serialize(model, { optimizer })).
    const ckpt = serialize(r1.model, { optimizer: r1.optimizer });
    const r3 = await fitInWorker(ckpt, x, y, { ...common, epochs: 3, initialEpoch: 1, lrScheduler, lrSchedulerState: r1.lrSchedulerState });
    expect(bits(r3.model)).toEqual(bits(here));
    // deserializeCheckpoint is the in-memory loadCheckpoint: the optimizer comes back over the new model's parameters.
    const back = deserializeCheckpoint(ckpt);
    expect(back.optimizer.stateDict()).toEqual(r1.optimizer.stateDict());
    expect(back.optimizer.params).toEqual(back.model.parameters());
  });

  it('without a scheduler, an SGD with momentum resumed twice equals one fit() with that optimizer', async () => {
    const { x, y } = data();
    const model = mlp();
    const here = deserialize(serialize(model));
    const opt = new optim.SGD(here.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    await here.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 3, batchSize: 32, seed: 2, verbose: 0 });
    const mine = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true });
    let r = await fitInWorker(model, x, y, { loss: 'crossEntropy', optimizer: mine, epochs: 1, batchSize: 32, seed: 2 });
    expect(mine.steps).toBe(0); // the caller's optimizer is not touched (its state was copied)
    for (const e of [2, 3]) r = await fitInWorker(r.model, x, y, { optimizer: r.optimizer, epochs: e, initialEpoch: e - 1, batchSize: 32, seed: 2 });
    expect(bits(r.model)).toEqual(bits(here));
    expect(r.optimizer.stateDict()).toEqual(opt.stateDict());
  });

  it('an Optimizer of the caller (not stepped yet) with a scheduler given as data: a new schedule over it, as fit() with both instances', async () => {
    const { x, y } = data();
    const model = mlp();
    const here = deserialize(serialize(model));
    const opt = new optim.AdamW(here.parameters(), { lr: 0.03, weightDecay: 0.05 });
    const schedule = { maxLr: 0.05, totalSteps: 2 * 3 };
    await here.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 2, batchSize: 32, seed: 4, verbose: 0, lrScheduler: new optim.lrScheduler.OneCycleLR(opt, schedule), lrSchedulerInterval: 'batch' });
    const r = await fitInWorker(model, x, y, {
      loss: 'crossEntropy', optimizer: new optim.AdamW(model.parameters(), { lr: 0.03, weightDecay: 0.05 }), epochs: 2, batchSize: 32, seed: 4,
      lrScheduler: { type: 'OneCycleLR', ...schedule }, lrSchedulerInterval: 'batch',
    });
    expect(bits(r.model)).toEqual(bits(here));
    expect(r.optimizer.stateDict()).toEqual(opt.stateDict());
  });

  it('a model of two inputs and two outputs: a loss per output, lossWeights and per-output metrics, as fit() bit for bit', async () => {
    const d = twoHeadsData(48, 3);
    const model = graph();
    const opts = {
      loss: { digit: 'crossEntropy', size: 'mse' } as const, lossWeights: [1, 0.5], metrics: { digit: ['accuracy' as const], size: 'mae' as const },
      optimizer: 'adam' as const, lr: 0.01, epochs: 3, batchSize: 8, seed: 2,
    };
    const val = d.image.shape[0] - 12;
    const vx = { image: d.image.slice(val), meta: d.meta.slice(val) };
    const vy = [d.digit.slice(val), d.size.slice(val)];
    const r = await fitInWorker(model, [d.image, d.meta], { digit: d.digit, size: d.size }, { ...opts, validationData: [vx, vy] });
    const here = deserialize(serialize(model));
    const h = await here.fit([d.image, d.meta], { digit: d.digit, size: d.size }, { ...opts, validationData: [vx, vy], verbose: 0 });
    expect(bits(r.model)).toEqual(bits(here));
    expect(r.history.history).toEqual(h.history);
    expect(Object.keys(r.history.history).sort()).toEqual(['digitAccuracy', 'digitLoss', 'loss', 'sizeLoss', 'sizeMae', 'valDigitAccuracy', 'valDigitLoss', 'valLoss', 'valSizeLoss', 'valSizeMae']);
    expect(r.model.predict([d.image, d.meta])).toHaveLength(2);
  });
});

describe('fitInWorker resume: refusals', () => {
  it('names what does not fit: a resumed optimizer of another class or with lr, a scheduler state without a scheduler, a loss function per output', async () => {
    const { x, y } = data();
    const model = mlp();
    const ckpt = serialize(model, { optimizer: new optim.Adam(model.parameters()) });
    await expect(fitInWorker(ckpt, x, y, { loss: 'crossEntropy', optimizer: 'sgd' })).rejects.toThrow(/^fathom\.fitInWorker: options\.optimizer is "sgd", but the model's bytes hold Adam optimizer state to resume/);
    await expect(fitInWorker(ckpt, x, y, { loss: 'crossEntropy', lr: 0.1 })).rejects.toThrow(/^fathom\.fitInWorker: lr applies to a new, named optimizer; the Adam optimizer resumed here has its own/);
    await expect(fitInWorker(ckpt, x, y, { loss: 'crossEntropy', optimizer: new optim.Adam(model.parameters()) })).rejects.toThrow(/^fathom\.fitInWorker: options\.optimizer: an Optimizer goes with its model/);
    await expect(fitInWorker(model, x, y, { loss: 'crossEntropy', lrSchedulerState: { type: 'StepLR' } })).rejects.toThrow(/^fathom\.fitInWorker: options\.lrSchedulerState was given without an lrScheduler/);
    await expect(fitInWorker(graph(), [x, x], [y, y], { loss: ['crossEntropy', ((p: Tensor) => p.sum()) as never] })).rejects.toThrow(/^fathom\.fitInWorker: options\.loss\[1\]: a loss function cannot cross threads/);
    await expect(fitInWorker(graph(), [x, x], [y, y], { loss: { digit: 'crossEntropy', size: ((p: Tensor) => p.sum()) as never } })).rejects.toThrow(/^fathom\.fitInWorker: options\.loss\.size: a loss function cannot cross threads/);
    await expect(fitInWorker(graph(), [x, 'meta' as never], [y, y], { loss: 'mse' })).rejects.toThrow(/^fathom\.fitInWorker: x\[1\] must be a Tensor, got/);
    // A scheduler state of another type: the scheduler's own message, from the worker.
    await expect(fitInWorker(model, x, y, { loss: 'crossEntropy', lrScheduler: { type: 'StepLR', stepSize: 1 }, lrSchedulerState: { type: 'ExponentialLR' } }))
      .rejects.toThrow(/^fathom\.StepLR\.loadStateDict: state\.type must be 'StepLR'/);
  });
});
