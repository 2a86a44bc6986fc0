// model.predictAsync (lib/serve/snapshot.ts): predict() in a per-model worker thread with the weights as
// they are AT THE CALL. Results equal predict() row by row under concurrent callers (an MLP, a graph
// nn.Model with two inputs and two outputs, BatchNorm); every kind of change between calls is seen (fit,
// optimizer.step, loadStateDict, a write into .data, freezing, pruning, a reassigned parameter); the
// caller's input may be mutated or transferred right after the call; the process exits without close().
//
// The worker runs the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { manualSeed, nn, ones, optim, prune, randn, serve, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { hasPredictWorker } from '../../lib/serve/snapshot.js';
import { Snapshot } from '../../lib/serve/model-bytes.js';
import { registerScale, Scale } from '../helpers/scale.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);
const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(6, 16), new nn.ReLU(), new nn.Linear(16, 3));
}

/** image [4] and meta [2] → a trunk → 'digit' [3] and 'size' [1]. */
function graph(seed: number): nn.Model {
  manualSeed(seed);
  const image = nn.input([4], { name: 'image' });
  const meta = nn.input([2], { name: 'meta' });
  const h = new nn.ReLU().apply(new nn.Linear(6, 8).apply(new nn.Concatenate().apply([image, meta])));
  return new nn.Model({ inputs: [image, meta], outputs: [new nn.Linear(8, 3).apply(h, { name: 'digit' }), new nn.Linear(8, 1).apply(h, { name: 'size' })] });
}

/** predictAsync's answer equals predict()'s, bit for bit, row by row. */
function same(got: Tensor, want: Tensor): void {
  expect(got).toBeInstanceOf(Tensor);
  expect(got.shape).toEqual(want.shape);
  expect(bits(got)).toEqual(bits(want));
}

afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(backends)('model.predictAsync (%s)', (name) => {
  beforeAll(() => setBackend(name));

  it('concurrent callers each get predict()\'s rows, bit for bit; one worker per model, reused', async () => {
    const model = mlp(1);
    manualSeed(5);
    const xs = Array.from({ length: 16 }, (_, i) => randn([1 + (i % 5) * 3, 6]));
    const ys = await Promise.all(xs.map((x) => model.predictAsync(x)));
    xs.forEach((x, i) => same(ys[i], model.predict(x)));
    expect(liveWorkers.size).toBe(1);
    const big = randn([40, 6]);
    same(await model.predictAsync(big, { batchSize: 7 }), model.predict(big));
    expect(liveWorkers.size).toBe(1);
    // Two models: two workers, each answering for its own model.
    const other = mlp(2);
    const [a, b] = await Promise.all([model.predictAsync(big), other.predictAsync(big)]);
    same(a, model.predict(big));
    same(b, other.predict(big));
    expect(liveWorkers.size).toBe(2);
  });

  it('a graph nn.Model of two inputs and two outputs (list and object inputs), and BatchNorm in eval mode', async () => {
    const g = graph(3);
    manualSeed(6);
    const image = randn([9, 4]);
    const meta = randn([9, 2]);
    const want = g.predict([image, meta]) as Tensor[];
    const [byList, byName] = await Promise.all([g.predictAsync<Tensor[]>([image, meta]), g.predictAsync<Tensor[]>({ meta, image })]);
    for (const got of [byList, byName]) {
      expect(got.length).toBe(2);
      same(got[0], want[0]);
      same(got[1], want[1]);
    }
    manualSeed(7);
    const bn = new nn.Sequential(new nn.Linear(6, 8), new nn.BatchNorm1d(8), new nn.ReLU(), new nn.Linear(8, 2));
    for (let i = 0; i < 3; i++) bn.forward(randn([5, 6])); // running statistics move (training mode)
    const x = randn([4, 6]);
    same(await bn.predictAsync(x), bn.predict(x));
    expect(bn.training).toBe(true); // the caller's mode is not touched
  });

  it('sees every change made between calls, and each call answers for the weights at its call', async () => {
    const model = mlp(4);
    manualSeed(8);
    const x = randn([7, 6]);
    const y = randn([7, 3]);
    // Each step changes the model in place right after a call was made, then calls again: the first
    // answer is for the weights before the change, the second for those after it.
    const changes: [string, () => Promise<unknown> | void][] = [
      ['fit', () => model.fit(x, y, { loss: 'mse', epochs: 2, lr: 0.05, verbose: 0 })],
      ['optimizer.step', () => {
        const opt = new optim.SGD(model.parameters(), { lr: 0.1 });
        model.forward(x).sum().backward();
        opt.step();
        opt.zeroGrad();
      }],
      ['loadStateDict', () => { model.loadStateDict(mlp(9).stateDict()); }],
      ['a write into .data', () => { (model.layers[2] as nn.Linear).bias!.data[1] += 0.25; }],
      // Freezing alone changes no output: frozen, then its weight written.
      ['freeze, then a write', () => { (model.layers[0] as nn.Linear).trainable = false; (model.layers[0] as nn.Linear).weight.data[0] += 0.5; }],
      ['pruning (masks and zeroed weights)', () => { prune.magnitude(model, { sparsity: 0.5 }); }],
      ['a reassigned parameter', () => { (model.layers[2] as unknown as { bias: Tensor }).bias = nn.parameter(ones([3])); }],
      ['prune.remove (the masks go), then a write', () => { prune.remove(model); (model.layers[2] as nn.Linear).weight.data[0] += 0.5; }],
    ];
    for (const [what, change] of changes) {
      const before = model.predict(x);
      const pending = model.predictAsync(x);
      await change();
      const after = model.predict(x);
      expect(bits(after), what).not.toEqual(bits(before));
      const next = model.predictAsync(x);
      same(await pending, before);
      same(await next, after);
    }
    expect(liveWorkers.size).toBe(1); // the same worker throughout
  });

  it('copies x at the call: mutating or transferring the caller\'s buffer afterwards changes nothing', async () => {
    const model = mlp(10);
    manualSeed(11);
    const a = randn([4, 6]);
    const b = randn([3, 6]);
    const wantA = model.predict(a);
    const wantB = model.predict(b);
    const pa = model.predictAsync(a);
    a.data.fill(1e6);
    const pb = model.predictAsync(b);
    structuredClone(b.data.buffer, { transfer: [b.data.buffer as ArrayBuffer] });
    expect(b.data.length).toBe(0);
    same(await pa, wantA);
    same(await pb, wantB);
    await expect(model.predictAsync(b)).rejects.toThrow(/^fathom\.predictAsync: x has lost its storage/);
  });
});

describe('model.predictAsync: errors, custom layers, lifetime', () => {
  it('refuses bad input and options on this thread; the worker\'s predict errors reject with its message', async () => {
    const model = mlp(12);
    await expect(model.predictAsync([1, 2] as never)).rejects.toThrow(/^fathom\.predictAsync: x\[0\] must be a Tensor, got/);
    await expect(model.predictAsync('x' as never)).rejects.toThrow(/^fathom\.predictAsync: x must be a Tensor, or for a model of several inputs a list or an object of Tensors, got/);
    await expect(model.predictAsync(randn([2, 6]), { batchSize: 0 })).rejects.toThrow(/^fathom\.predictAsync: options\.batchSize must be an integer >= 1, got 0/);
    await expect(model.predictAsync(randn([2, 6]), { idleTimeoutMs: -1 })).rejects.toThrow(/^fathom\.predictAsync: options\.idleTimeoutMs must be a number of milliseconds/);
    await expect(model.predictAsync(randn([2, 6]), { batchsize: 3 } as never)).rejects.toThrow(/^fathom\.predictAsync: unknown option 'batchsize'/);
    await expect(model.predictAsync(randn([2, 5]))).rejects.toThrow(/^fathom\.Sequential: layer 0 \(Linear\): fathom\.Linear: expected input \[\*, 6\].*got \[2, 5\] \(in predict/);
    // A model serialize() refuses (a custom layer without config()) is refused naming predictAsync.
    class NoConfig extends nn.Module {
      forward(x: Tensor): Tensor { return x; }
    }
    const unsaveable = new nn.Sequential(new nn.Linear(3, 3), new NoConfig());
    await expect(unsaveable.predictAsync(randn([1, 3]))).rejects.toThrow(/^fathom\.predictAsync: fathom\.Module\.config: NoConfig does not implement config\(\)/);
    // The worker goes on answering after errors; a call refused here after a weight changed sends nothing,
    // and the next call still sends the change (never a stale answer).
    const x = randn([2, 6]);
    same(await model.predictAsync(x), model.predict(x));
    (model.layers[0] as nn.Linear).weight.data[3] += 1;
    await expect(model.predictAsync([x, 'y'] as never)).rejects.toThrow(/^fathom\.predictAsync: x\[1\] must be a Tensor/);
    same(await model.predictAsync(x), model.predict(x));
  });

  it('custom layers: without `imports` the worker says what is missing; with them it answers', async () => {
    registerScale();
    manualSeed(13);
    const model = new nn.Sequential(new nn.Linear(6, 4), new Scale(4));
    (model.layers[1] as Scale).scale.data[2] = 3;
    const x = randn([3, 6]);
    await expect(model.predictAsync(x)).rejects.toThrow(/fathom\.deserialize: cannot rebuild the architecture: .*unknown module type 'Scale'/);
    same(await model.predictAsync(x, { imports: [new URL('./fixtures/scale-layer.mjs', import.meta.url)] }), model.predict(x));
  });

  it('an idle worker closes itself after idleTimeoutMs; the next call starts a new one', async () => {
    const model = mlp(14);
    const x = randn([2, 6]);
    same(await model.predictAsync(x, { idleTimeoutMs: 0 }), model.predict(x));
    while (hasPredictWorker(model) || liveWorkers.size > 0) await new Promise((r) => setTimeout(r, 5));
    (model.layers[0] as nn.Linear).weight.data[0] += 1;
    same(await model.predictAsync(x), model.predict(x));
    expect(hasPredictWorker(model)).toBe(true);
  });

  it('the snapshot sends only what changed: nothing, the changed tensors, or the whole model', () => {
    const model = mlp(15);
    const s = new Snapshot();
    expect(s.diff(model).type).toBe('model');
    expect(s.diff(model).type).toBe('same');
    (model.layers[2] as nn.Linear).weight.data[4] = 0.5;
    const d = s.diff(model);
    expect(d.type === 'update' && d.names).toEqual(['2.weight']);
    expect(s.diff(model).type).toBe('same');
    // Bytes, not values: -0 for 0 is a change (the bias starts at 0).
    (model.layers[2] as nn.Linear).bias!.data[0] = -0;
    const z = s.diff(model);
    expect(z.type === 'update' && z.names).toEqual(['2.bias']);
    // Freezing changes no prediction: nothing to send. New state keys (pruning masks) send the whole model.
    (model.layers[0] as nn.Linear).trainable = false;
    expect(s.diff(model).type).toBe('same');
    prune.magnitude(model, { sparsity: 0.25 });
    expect(s.diff(model).type).toBe('model');
  });

  it('the process exits by itself without closing the worker (it is unref\'d while idle)', () => {
    const entry = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'index.js')).href;
    const script = `
      const { nn, manualSeed, randn } = await import(${JSON.stringify(entry)});
      manualSeed(1);
      const m = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.Linear(4, 2));
      const x = randn([5, 3]);
      const y = await m.predictAsync(x, { idleTimeoutMs: 600000 });
      console.log(JSON.stringify({ shape: y.shape, same: y.data.every((v, i) => v === m.predict(x).data[i]) }));`;
    const dir = mkdtempSync(join(tmpdir(), 'fathom-predict-async-'));
    try {
      writeFileSync(join(dir, 'main.mjs'), script);
      // An idle timeout of 10 minutes: exiting before it (the spawn's limit, 2 minutes) shows that the idle worker holds nothing open.
      const r = spawnSync(process.execPath, [join(dir, 'main.mjs')], { encoding: 'utf8', timeout: 120_000 });
      expect(r.signal).toBe(null);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ shape: [5, 2], same: true });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
