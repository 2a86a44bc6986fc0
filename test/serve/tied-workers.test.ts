// Tied weights across threads: model.predictAsync, an InferencePool and fitInWorker send the model as serialize()d bytes,
// which store a shared tensor once and re-tie it in the worker (lib/io/tied.ts). predictAsync answers as
// predict() here, bit for bit, also after the shared weight changes in place (the worker's copy is one
// tensor under both names); fitInWorker trains one shared Parameter (the same weights as fit() here) and
// returns a model whose aliases are that one Parameter.
//
// The workers run the compiled package: from the sources (vitest) that is this checkout's dist/, which
// `npm test` builds first (`npx tsc -p tsconfig.json` when running this file alone).
import { afterEach, describe, expect, it } from 'vitest';
import { deserialize, fitInWorker, manualSeed, nn, randn, serialize, serve, Tensor } from '../../lib/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { data } from '../helpers/classes.js';

const bits = (t: Tensor): number[] => Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.size));
const weights = (m: nn.Module): number[][] => m.parameters().map((p) => bits(p));

/** 4 → 3 classifiers with a tie: a Linear used twice, or one weight in two Linears. */
const MODELS: Array<[string, () => nn.Sequential]> = [
  ['a module used twice', () => {
    manualSeed(31);
    const lin = new nn.Linear(4, 4);
    return new nn.Sequential(lin, new nn.Tanh(), lin, new nn.Tanh(), new nn.Linear(4, 3));
  }],
  ['a weight in two modules', () => {
    manualSeed(32);
    const a = new nn.Linear(4, 4), b = new nn.Linear(4, 4);
    (b as unknown as { weight: Tensor }).weight = a.weight;
    return new nn.Sequential(a, new nn.Tanh(), b, new nn.Tanh(), new nn.Linear(4, 3));
  }],
];

afterEach(async () => {
  await serve.closeWorkers();
  expect(liveWorkers.size).toBe(0);
});

describe.each(MODELS)('tied weights in workers: %s', (_kind, make) => {
  it('predictAsync answers as predict(), also after the shared weight changes in place', async () => {
    const m = make();
    const x = randn([9, 4]);
    expect(bits(await m.predictAsync(x))).toEqual(bits(m.predict(x)));
    const w = (m.layers[2] as nn.Linear).weight; // the shared one, through its alias
    for (let i = 0; i < w.size; i += 3) w.data[i] += 0.25;
    const after = m.predict(x);
    expect(bits(after)).not.toEqual(bits(deserialize(serialize(make())).predict(x)));
    expect(bits(await m.predictAsync(x))).toEqual(bits(after));
  });

  it('an InferencePool serves it as predict() here', async () => {
    const m = make();
    const pool = new serve.InferencePool(m);
    try {
      const x = randn([7, 4]);
      expect(bits(await pool.predict(x))).toEqual(bits(m.predict(x)));
    } finally {
      await pool.close();
    }
  });

  it('fitInWorker trains the one shared Parameter as fit() does here; the model returned is tied', async () => {
    const { x, y } = data();
    const m = make();
    const opts = { loss: 'crossEntropy', optimizer: 'adam', lr: 0.02, batchSize: 16, seed: 7, epochs: 3 } as const;
    const r = await fitInWorker(m, x, y, opts);
    const s = r.model.stateDict();
    expect(s['2.weight']).toBe(s['0.weight']);
    expect(r.model.parameters().length).toBe(m.parameters().length);
    expect(r.optimizer.params).toEqual(r.model.parameters());
    const here = deserialize(serialize(m));
    const h = await here.fit(x, y, { ...opts, verbose: 0 });
    expect(weights(r.model)).toEqual(weights(here));
    expect(r.history.history.loss).toEqual(h.history.loss);
    expect(weights(r.model)).not.toEqual(weights(m)); // it trained
  });
});
