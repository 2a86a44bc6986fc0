// Pruning after review (#12): masks re-applied at every forward (writes and
// unmasked loads), corrupt masks refused by load(), exact selection with ties
// and many weights, NaN weights refused, frozen and tied weights, argument
// refusals, the public namespace — forwards on both backends.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { load, manualSeed, nn, optim, prune, randn, save, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const arr = (t: Tensor): number[] => Array.from(t.data as Float32Array);
const zerosOf = (t: Tensor): number => arr(t).filter((v) => v === 0).length;

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-prune-review-')); });
afterAll(async () => {
  setBackend(nativeBinding() ? 'native' : 'ts');
  await rm(dir, { recursive: true, force: true });
});

function mlp(): nn.Sequential {
  manualSeed(11);
  return new nn.Sequential(new nn.Linear(5, 8), new nn.ReLU(), new nn.Linear(8, 3));
}

/** A copy of `m`'s forward computed with explicitly masked weights (the reference). */
function maskedReference(build: () => nn.Module, m: nn.Module, x: Tensor): number[] {
  const ref = build();
  const sd: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(m.stateDict())) {
    if (k.endsWith('weight_mask')) continue;
    const mask = m.stateDict()[`${k}_mask`];
    sd[k] = mask ? new Tensor(Float32Array.from(arr(t), (v, i) => (arr(mask)[i] === 0 ? 0 : v)), [...t.shape]) : t;
  }
  ref.loadStateDict(sd);
  return arr(ref.forward(x));
}

describe.each(backends)('masks hold at every forward (%s backend)', (name) => {
  it('a weight written directly after pruning is masked again by the next forward (Sequential fused, Linear, Conv2d, ConvTranspose2d)', () => {
    setBackend(name);
    const builds: [string, () => nn.Module, Tensor][] = [
      ['Sequential(Linear, ReLU, Linear)', mlp, randn([4, 5])],
      ['Linear', () => { manualSeed(12); return new nn.Linear(5, 3); }, randn([4, 5])],
      ['Conv2d + ReLU', () => { manualSeed(13); return new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.ReLU()); }, randn([2, 2, 5, 5])],
      ['ConvTranspose2d', () => { manualSeed(14); return new nn.ConvTranspose2d(2, 3, 3); }, randn([2, 2, 4, 4])],
    ];
    for (const [what, build, x] of builds) {
      const m = build();
      prune.magnitude(m, { sparsity: 0.6 });
      const zeros = prune.sparsity(m).zeros;
      for (const [, w] of m.namedParameters().filter(([n]) => n.endsWith('weight'))) w.data.fill(0.25);
      const y = arr(m.forward(x));
      expect(prune.sparsity(m).zeros, what).toBe(zeros);
      expect(y, what).toEqual(maskedReference(build, m, x));
    }
  });

  it('loadStateDict of an unmasked dict (strict: false) is masked by the next forward; remove() stops it', () => {
    setBackend(name);
    const m = mlp();
    prune.magnitude(m, { sparsity: 0.5 });
    const dense = mlp();
    const r = m.loadStateDict(dense.stateDict(), { strict: false });
    expect(r.missingKeys).toEqual(['0.weight_mask', '2.weight_mask']);
    const x = randn([3, 5]);
    const y = arr(m.forward(x));
    expect(prune.sparsity(m).zeros).toBe(Math.round(0.5 * 64));
    expect(y).toEqual(maskedReference(mlp, m, x));
    prune.remove(m);
    expect(Object.hasOwn(m.layers[0], 'forwardWith')).toBe(false);
    m.parameters()[0].data.fill(0.5);
    m.forward(x);
    expect(zerosOf(m.parameters()[0])).toBe(0);
  });

  it('a pruned state dict loads into a fresh model after prune.magnitude(model, { sparsity: 0 })', () => {
    setBackend(name);
    const m = mlp();
    prune.magnitude(m, { sparsity: 0.7 });
    const fresh = mlp();
    expect(() => fresh.loadStateDict(m.stateDict())).toThrow(/unexpected .*0\.weight_mask, 2\.weight_mask.*prune\.magnitude\(model, \{ sparsity: 0 \}\) first/);
    expect(prune.magnitude(fresh, { sparsity: 0 }).zeros).toBe(0);
    fresh.loadStateDict(m.stateDict());
    expect(prune.sparsity(fresh).zeros).toBe(Math.round(0.7 * 64));
    const x = randn([2, 5]);
    expect(arr(fresh.forward(x))).toEqual(arr(m.forward(x)));
  });
});

describe('load() of files with masks', () => {
  /** Saves a pruned MLP, then rewrites one tensor's header entry or data. */
  async function corrupt(tag: string, edit: (header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>, data: Buffer) => void): Promise<string> {
    const m = mlp();
    prune.magnitude(m, { sparsity: 0.5, scope: 'layer' });
    const p = join(dir, `${tag}.safetensors`);
    await save(m, p);
    const buf = await readFile(p);
    const n = Number(buf.readBigUInt64LE(0));
    const header = JSON.parse(buf.subarray(8, 8 + n).toString());
    const data = Buffer.from(buf.subarray(8 + n));
    edit(header, data);
    const js = Buffer.from(JSON.stringify(header));
    const hb = Buffer.concat([js, Buffer.alloc((8 - (js.length % 8)) % 8, 0x20)]);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(hb.length));
    await writeFile(p, Buffer.concat([len, hb, data]));
    return p;
  }
  const firstMasked = (h: Record<string, { data_offsets: [number, number] }>, d: Buffer): number => {
    const [a, b] = h['0.weight_mask'].data_offsets;
    for (let i = a; i < b; i += 4) if (d.readFloatLE(i) === 0) return (i - a) / 4;
    throw new Error('no masked entry');
  };

  it('refuses masks holding values other than 0 and 1 (they would scale the weight at every step)', async () => {
    for (const [tag, bad] of [['half', 0.5], ['nan', NaN], ['two', 2]] as const) {
      const p = await corrupt(tag, (h, d) => d.writeFloatLE(bad, h['0.weight_mask'].data_offsets[0] + 4));
      await expect(load(p), tag).rejects.toThrow(`fathom.load: the pruning mask '0.weight_mask' must hold only 0 and 1, got ${bad} at flat index 1 (a corrupt or hand-edited file)`);
    }
  });

  it('refuses an integer mask with a message naming it', async () => {
    const p = await corrupt('i32', (h) => { h['0.weight_mask'].dtype = 'I32'; });
    await expect(load(p)).rejects.toThrow("fathom.load: the pruning mask '0.weight_mask' must be a float tensor of 0s and 1s, got dtype I32");
  });

  it('a weight the file holds nonzero under its mask is masked before its first use', async () => {
    let at = -1;
    const p = await corrupt('unmasked', (h, d) => {
      at = firstMasked(h, d);
      d.writeFloatLE(0.75, h['0.weight'].data_offsets[0] + 4 * at);
    });
    const m = await load(p);
    expect(m.parameters()[0].data[at]).toBeCloseTo(0.75, 6);
    const x = randn([2, 5]);
    const y = arr(m.forward(x));
    expect(m.parameters()[0].data[at] === 0).toBe(true);
    expect(y).toEqual(maskedReference(mlp, m, x));
    // And fine-tuning keeps it there.
    const yy = new Tensor(Int32Array.from([0, 1]), [2]);
    await m.fit(x, yy, { loss: 'crossEntropy', optimizer: new optim.SGD(m.parameters(), { lr: 0.5, momentum: 0.9 }), epochs: 3, verbose: 0 });
    expect(m.parameters()[0].data[at] === 0).toBe(true);
  });
});

describe('magnitude: selection and refusals', () => {
  it('exact count and order with many ties and earlier masks (the (|w|, position) order, checked by a sort)', () => {
    manualSeed(15);
    const m = new nn.Sequential(new nn.Linear(40, 30), new nn.Linear(30, 20));
    // Few distinct magnitudes: most entries tie with others.
    for (const w of [m.layers[0], m.layers[1]].map((l) => (l as nn.Linear).weight)) {
      const d = w.data as Float32Array;
      for (let i = 0; i < d.length; i++) d[i] = ((i * 7919) % 5) * (i % 2 ? 0.1 : -0.1);
    }
    const flat = (): number[] => [...arr((m.layers[0] as nn.Linear).weight), ...arr((m.layers[1] as nn.Linear).weight)];
    const before = flat();
    prune.magnitude(m, { sparsity: 0.3 });
    const order = before.map((v, i) => [Math.abs(v), i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, i]) => i);
    const k1 = Math.round(0.3 * 1800);
    const expectZero = new Set(order.slice(0, k1));
    const after = flat();
    after.forEach((v, i) => expect(v === 0, `index ${i}`).toBe(expectZero.has(i) || before[i] === 0));
    // Again, to 0.75: the earlier masks count first, then the same order.
    prune.magnitude(m, { sparsity: 0.75 });
    const k2 = Math.round(0.75 * 1800);
    const masked = new Set(order.slice(0, k2));
    const masks = m.buffers().flatMap((b) => arr(b));
    masks.forEach((v, i) => expect(v, `mask ${i}`).toBe(masked.has(i) ? 0 : 1));
  });

  it('refuses a NaN weight (no magnitude to rank) and leaves the model unpruned', () => {
    const m = mlp();
    m.parameters()[2].data[4] = NaN;
    expect(() => prune.magnitude(m, { sparsity: 0.5 })).toThrow("fathom.prune.magnitude: weight '2.weight' holds NaN at flat index 4; a NaN weight has no magnitude to rank (expected finite or infinite weights)");
    expect(prune.isPruned(m)).toBe(false);
    expect(m.buffers()).toHaveLength(0);
  });

  it('refuses non-boolean include predicates, non-string names and non-fraction sparsities', () => {
    const m = mlp();
    expect(() => prune.magnitude(m, { sparsity: 0.5, include: () => 1 as never })).toThrow("fathom.prune.magnitude: options.include(name, module) must return a boolean, got 1 for '0'");
    expect(() => prune.magnitude(m, { sparsity: 0.5, include: [0] as never })).toThrow(/options\.include must be an array of module names \(strings, e\.g\. \['0', 'fc2'\]\) or a function/);
    for (const s of [NaN, Infinity, -0.1, 10, '0.5']) {
      expect(() => prune.magnitude(m, { sparsity: s as number })).toThrow(/options\.sparsity must be a number from 0 to 1 \(the fraction of weights set to 0\), got/);
    }
    expect(() => prune.magnitude(m, { sparsity: 10 })).toThrow("got 10 (a fraction, not PyTorch's integer amount: for 10 weights give 10/n)");
    expect(() => prune.magnitude(new nn.LSTM(3, 4), { sparsity: 0.5, include: () => true })).toThrow("fathom.prune.magnitude: no weights to prune: it prunes parameters named 'weight' (of every Linear and Conv layer by default, or of the modules options.include picks); got none among the model's parameters ('weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0', 'bias_hh_l0')");
    expect(() => prune.magnitude(m, { sparsity: 0.5, include: [] })).toThrow(/no weights to prune/);
    expect(() => prune.magnitude(new nn.Sequential(), { sparsity: 0.5 })).toThrow(/no weights to prune/);
    expect(() => prune.sparsity(null as never)).toThrow('fathom.prune.sparsity: expected a Module, got null');
    expect(() => prune.isPruned(3 as never)).toThrow('fathom.prune.isPruned: expected a Module, got 3');
    expect(prune.isPruned(m)).toBe(false);
  });

  it('masks hold through fit with Adadelta and Adamax too (by name)', async () => {
    for (const opt of ['adadelta', 'adamax'] as const) {
      const m = mlp();
      prune.magnitude(m, { sparsity: 0.6 });
      const masks = m.buffers().map((b) => arr(b));
      const x = randn([16, 5]);
      const y = new Tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
      await m.fit(x, y, { loss: 'crossEntropy', optimizer: opt, epochs: 2, batchSize: 4, verbose: 0 });
      [m.parameters()[0], m.parameters()[2]].forEach((w, j) => arr(w).forEach((v, i) => { if (masks[j][i] === 0) expect(v === 0, opt).toBe(true); }));
      expect(prune.sparsity(m).zeros, opt).toBe(Math.round(0.6 * 64));
    }
  });

  it('a frozen layer is pruned and stays bit-identical (zeros included) through fit', async () => {
    const m = mlp();
    m.layers[0].freeze();
    prune.magnitude(m, { sparsity: 0.5 });
    const w0 = arr(m.parameters()[0]);
    const x = randn([16, 5]);
    const y = new Tensor(Int32Array.from({ length: 16 }, (_, i) => i % 3), [16]);
    await m.fit(x, y, { loss: 'crossEntropy', optimizer: 'adam', epochs: 2, batchSize: 4, verbose: 0 });
    expect(arr(m.parameters()[0])).toEqual(w0);
  });

  it('a weight tied between two modules is ranked once, masked once, and masked by either forward', () => {
    manualSeed(16);
    const a = new nn.Linear(4, 4), b = new nn.Linear(4, 4);
    (b as unknown as { weight: Tensor }).weight = a.weight;
    class Tied extends nn.Module {
      constructor(readonly a: nn.Linear, readonly b: nn.Linear) { super(); }
      forward(x: Tensor): Tensor { return this.b.forward(this.a.forward(x)); }
    }
    const m = new Tied(a, b);
    const r = prune.magnitude(m, { sparsity: 0.5 });
    expect(r.layers.map((l) => [l.name, l.zeros, l.total])).toEqual([['a.weight', 8, 16]]);
    expect(Object.keys(m.stateDict()).filter((k) => k.endsWith('_mask'))).toEqual(['a.weight_mask']);
    a.weight.data.fill(1);
    b.forward(randn([1, 4]));
    expect(zerosOf(a.weight)).toBe(8);
    expect(prune.remove(m)).toEqual(['a.weight']);
    a.weight.data.fill(1);
    b.forward(randn([1, 4]));
    expect(zerosOf(a.weight)).toBe(0);
  });

  it('internal helpers are not in the public namespace', () => {
    expect(Object.keys(prune)).not.toContain('maskOf');
    for (const f of ['magnitude', 'sparsity', 'remove', 'isPruned']) expect(typeof (prune as Record<string, unknown>)[f]).toBe('function');
  });
});
