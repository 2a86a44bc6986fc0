// The training loop (issue 8, sections 2, 3 and 5): no interleaved fits,
// Keras's accuracy and validation-split rules, bad options refused by name.
import { describe, expect, it } from 'vitest';
import { losses, manualSeed, nn, optim, randn, setBackend, tensor, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { validationSplitPoint } from '../../lib/models/training.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

function data(n: number, features = 2): [Tensor, Tensor] {
  const x = tensor(Float32Array.from({ length: n * features }, (_, i) => Math.sin(i * 0.7)), [n, features]);
  const y = tensor(Int32Array.from({ length: n }, (_, i) => (x.data[i * features] > 0 ? 1 : 0)));
  return [x, y];
}

function mlp(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(2, 4), new nn.Tanh(), new nn.Linear(4, 2));
}

const quiet = { verbose: 0 as const };

describe('one fit() at a time per model', () => {
  it('refuses a second fit while the first runs; the first trains exactly as alone', async () => {
    const [x, y] = data(64);
    const recipe = { loss: 'crossEntropy' as const, optimizer: 'sgd' as const, lr: 0.1, epochs: 2, batchSize: 8, seed: 3, ...quiet };
    const alone = mlp(1);
    await alone.fit(x, y, recipe);
    const model = mlp(1);
    const first = model.fit(x, y, recipe);
    await expect(model.fit(x, y, { ...recipe, lr: 5 })).rejects.toThrow(/fathom.fit: Sequential is already being trained by another fit\(\) call; await it first/);
    await first;
    expect([...model.parameters()[0].data]).toEqual([...alone.parameters()[0].data]);
    await model.fit(x, y, recipe); // free again once the first resolved
  });

  it('a fit that fails (callback error, loss NaN) frees the model and restores its mode', async () => {
    const [x, y] = data(16);
    const model = mlp(5);
    model.eval();
    await expect(model.fit(x, y, { loss: 'crossEntropy', ...quiet, callbacks: { onBatchEnd: () => { throw new Error('stop here'); } } }))
      .rejects.toThrow('stop here');
    await expect(model.fit(x, y, { loss: () => tensor([NaN]).requireGrad(), ...quiet })).rejects.toThrow(/fathom.fit: the loss became NaN at epoch 1, batch 1/);
    expect(model.training).toBe(false);
    await model.fit(x, y, { loss: 'crossEntropy', ...quiet });
  });

  it('refuses a fit of another model that shares its layers', async () => {
    const [x, y] = data(32);
    const shared = new nn.Linear(2, 2);
    const a = new nn.Sequential(shared);
    const b = new nn.Sequential(shared, new nn.Tanh());
    const running = a.fit(x, y, { loss: 'crossEntropy', ...quiet });
    await expect(b.fit(x, y, { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/shares parameters with a Sequential that another fit\(\) is training/);
    await running;
  });

  it('evaluate: allowed from callbacks (fit waits for it), refused outside them; predict allowed at any time', async () => {
    const [x, y] = data(64);
    const model = mlp(2);
    const events: string[] = [];
    let outside: Promise<unknown> | null = null;
    let predicted: Tensor | null = null;
    const timer = setTimeout(() => {
      outside = model.evaluate(x, y);
      outside.catch(() => {}); // checked below
      predicted = model.predict(x);
    }, 0);
    await model.fit(x, y, {
      loss: 'crossEntropy', optimizer: 'sgd', epochs: 2, batchSize: 8, ...quiet,
      callbacks: {
        onBatchEnd: (b) => {
          if (b === 0) {
            // Not awaited: fit still waits for it before its next step.
            void model.evaluate(x, y, { batchSize: 4 }).then(() => events.push('evaluated'));
          }
          events.push(`batch ${b}`);
        },
        onEpochEnd: async (e) => {
          const r = await model.evaluate(x, y);
          events.push(`epoch ${e} ${Number.isFinite(r.loss)}`);
        },
      },
    });
    clearTimeout(timer);
    expect(events.slice(0, 3)).toEqual(['batch 0', 'evaluated', 'batch 1']);
    expect(events).toContain('epoch 1 true');
    expect(outside).not.toBeNull();
    await expect(outside).rejects.toThrow(/fathom.evaluate: Sequential is being trained by fit\(\); evaluating now would mix weights/);
    expect(predicted!.shape).toEqual([64, 2]);
    expect(model.training).toBe(true);
  });

  it('refuses fit while an evaluate of the model runs', async () => {
    const [x, y] = data(600);
    const model = mlp(3);
    const pending = model.evaluate(x, y, { batchSize: 16 });
    await expect(model.fit(x, y, { loss: 'crossEntropy', ...quiet })).rejects.toThrow(/being evaluated by a pending evaluate\(\) call/);
    await pending;
  });
});

describe.each(backends)('accuracy follows the target form (%s backend)', (name) => {
  // One output column: logits z = w x with w = 1, so z = x.
  const binaryModel = () => {
    const lin = new nn.Linear(1, 1);
    lin.weight.data[0] = 1;
    lin.bias!.data[0] = 0;
    return new nn.Sequential(lin);
  };
  const xs = tensor([[-2], [-0.5], [0], [0.3], [0.7], [3]]);

  it('one column, binaryCrossEntropy (logits): threshold 0; never 1 by construction', async () => {
    setBackend(name);
    const m = binaryModel();
    // pred > 0 → 1: [0, 0, 0, 1, 1, 1]
    const t = tensor([[0], [1], [0], [1], [0], [1]]);
    const r = await m.evaluate(xs, t, { loss: 'binaryCrossEntropy' });
    expect(r.accuracy).toBeCloseTo(4 / 6, 12);
    const allOnes = await m.evaluate(tensor([[-1], [-2]]), tensor([[1], [1]]), { loss: 'binaryCrossEntropy' });
    expect(allOnes.accuracy).toBe(0);
  });

  it('one column of probabilities: threshold 0.5 (mse, or an explicit threshold)', async () => {
    setBackend(name);
    const m = binaryModel();
    const t = tensor([[0], [0], [0], [0], [1], [1]]); // pred > 0.5 → [0, 0, 0, 0, 1, 1]
    expect((await m.evaluate(xs, t, { loss: 'mse', accuracy: true })).accuracy).toBe(1);
    // With the logits threshold the same outputs give 5/6 (0.3 counts as 1).
    expect((await m.evaluate(xs, t, { loss: 'mse', accuracy: true, accuracyThreshold: 0 })).accuracy).toBeCloseTo(5 / 6, 12);
    // int32 0/1 labels with one output column: thresholded too (argmax of one column is always 0).
    const labels = tensor(new Int32Array([0, 0, 0, 0, 1, 1]));
    expect((await m.evaluate(xs, labels, { loss: (p: Tensor) => p.sum(), accuracy: true })).accuracy).toBe(1);
  });

  it('class indices and one-hot rows: argmax; several binary columns: element-wise', async () => {
    setBackend(name);
    const lin = new nn.Linear(2, 2);
    lin.weight.data.set([1, 0, 0, 1]);
    lin.bias!.data.fill(0);
    const m = new nn.Sequential(lin); // logits = x
    const x2 = tensor([[1, 0], [0, 1], [2, 3], [5, -1]]); // argmax [0, 1, 1, 0]
    expect((await m.evaluate(x2, tensor(new Int32Array([0, 1, 0, 0])))).accuracy).toBe(3 / 4);
    expect((await m.evaluate(x2, tensor([[1, 0], [0, 1], [1, 0], [1, 0]]), { loss: 'crossEntropy' })).accuracy).toBe(3 / 4);
    // Multi-label (binaryCrossEntropy): per element, x > 0 → 1, averaged over each row's columns (Keras binary_accuracy).
    const multi = tensor([[1, 0], [0, 1], [1, 1], [0, 0]]); // row hits 2, 2, 2, 1 of 2
    expect((await m.evaluate(x2, multi, { loss: 'binaryCrossEntropy' })).accuracy).toBeCloseTo(7 / 8, 12);
  });

  it('fit reports binary accuracy by default for binaryCrossEntropy, and it is not always 1', async () => {
    setBackend(name);
    manualSeed(4);
    const m = new nn.Sequential(new nn.Linear(2, 1));
    const [x, yi] = data(40);
    const y = tensor(Float32Array.from(yi.data), [40, 1]);
    const h = await m.fit(x, y, { loss: 'binaryCrossEntropy', optimizer: 'sgd', lr: 0.5, epochs: 30, batchSize: 40, ...quiet, shuffle: false });
    expect(h.history.accuracy!.length).toBe(30);
    expect(h.history.accuracy![0]).toBeLessThan(0.8);
    expect(h.history.accuracy!.at(-1)!).toBeGreaterThan(0.85); // separable: x0 > 0
    // evaluate's default accuracy is the count of (logit > 0) == label.
    const logits = m.predict(x).data;
    const want = [...y.data].filter((t, i) => (logits[i] > 0 ? 1 : 0) === t).length / 40;
    expect((await m.evaluate(x, y)).accuracy).toBe(want);
  });

  it('refuses an accuracy it cannot compute, by name', async () => {
    setBackend(name);
    const m = mlp(1);
    const [x] = data(4);
    await expect(m.evaluate(x, tensor(new Float32Array(12), [4, 3]), { loss: (p: Tensor) => p.sum(), accuracy: true }))
      .rejects.toThrow(/fathom.evaluate: accuracy needs int32 class indices \[4\] or one-hot rows \[4, 2\] for predictions \[4, 2\], got float32 \[4, 3\]/);
  });
});

describe('validationSplit holds out n − ⌊n·(1 − split)⌋ rows, as Keras', () => {
  it('for every fraction 0.01 … 0.99 and several n (exact integer arithmetic as the oracle)', () => {
    const bad: string[] = [];
    for (const n of [1, 2, 3, 7, 10, 33, 99, 100, 101, 1000, 12345, 60000, 2 ** 31 - 1]) {
      for (let k = 1; k <= 99; k++) {
        const want = Math.floor((n * (100 - k)) / 100); // n·(100 − k) is an exact integer in doubles for these n
        const got = validationSplitPoint(n, k / 100);
        if (got !== want) bad.push(`n=${n} split=${k / 100}: ${got} (want ${want})`);
      }
    }
    expect(bad).toEqual([]);
    // The example and a fraction whose binary product falls below the integer.
    expect(100 - validationSplitPoint(100, 0.29)).toBe(29);
    expect(Math.floor(100 * (1 - 0.8))).toBe(19); // the naive formula would hold out 81 rows
    expect(100 - validationSplitPoint(100, 0.8)).toBe(80);
    expect(100 - validationSplitPoint(100, 0.34)).toBe(34); // 100 · 0.66 = 65.99999999999999
    // Fractions that are not whole percent stay floors.
    expect(validationSplitPoint(1000, 0.2345)).toBe(765);
    expect(validationSplitPoint(3, 0.5)).toBe(1);
  });

  it('fit trains on 71 rows and validates on 29 for 0.29 of 100', async () => {
    const [x, y] = data(100);
    const seen: number[] = [];
    const counting = (p: Tensor, t: Tensor) => {
      seen.push(p.shape[0]);
      return losses.crossEntropy(p, t);
    };
    let trained = 0;
    await mlp(1).fit(x, y, {
      loss: counting, optimizer: 'sgd', validationSplit: 0.29, batchSize: 10, ...quiet,
      callbacks: { onBatchEnd: (_, l) => { trained += l.size; } },
    });
    expect(trained).toBe(71);
    expect(seen.reduce((a, b) => a + b, 0)).toBe(100);
    expect(seen.at(-1)).toBe(29); // the validation pass: one batch of max(10, 256) rows
  });

  it('refuses a split that leaves no validation or no training rows', async () => {
    const [x, y] = data(3);
    await expect(mlp(1).fit(x, y, { loss: 'crossEntropy', validationSplit: 1e-15, ...quiet }))
      .rejects.toThrow(/validationSplit 1e-15 of 3 samples leaves 3 to train on and 0 to validate; both need at least one/);
    await expect(mlp(1).fit(x.slice(0, 1), y.slice(0, 1), { loss: 'crossEntropy', validationSplit: 0.5, ...quiet }))
      .rejects.toThrow(/leaves 0 to train on and 1 to validate/);
    // The smallest data a split works on: 2 rows, one each.
    const h = await mlp(1).fit(x.slice(0, 2), y.slice(0, 2), { loss: 'crossEntropy', validationSplit: 0.5, ...quiet });
    expect(h.history.valLoss!.length).toBe(1);
  });
});

describe('bad input to fit / evaluate / predict is refused by name', () => {
  const [x, y] = data(8);

  it('zero samples', async () => {
    const m = mlp(1);
    const x0 = tensor(new Float32Array(0), [0, 2]);
    const y0 = tensor(new Int32Array(0), [0]);
    await expect(m.evaluate(x0, y0)).rejects.toThrow(/fathom.evaluate: x and y have no samples \(shapes \[0, 2\] and \[0\]\)/);
    await expect(m.fit(x0, y0, { loss: 'crossEntropy' })).rejects.toThrow(/fathom.fit: x and y have no samples/);
    await expect(m.fit(x, y, { loss: 'crossEntropy', validationData: [x0, y0], ...quiet })).rejects.toThrow(/fathom.fit \(validationData\): x and y have no samples/);
    expect(m.predict(x0).shape).toEqual([0, 2]); // an empty batch in, an empty batch out (as PyTorch)
  });

  it('fit without options: loss is required on the first fit, then remembered (optimizer defaults to adam)', async () => {
    const m = mlp(1);
    await expect(m.fit(x, y)).rejects.toThrow(/fathom.fit: options.loss is required on a model's first fit\(\), e.g. fit\(x, y, \{ loss: 'crossEntropy', optimizer: 'adam' \}\)/);
    await m.fit(x, y, { loss: 'crossEntropy', ...quiet });
    const h = await m.fit(x, y, quiet);
    expect(h.history.accuracy).toBeDefined(); // crossEntropy's accuracy, remembered
  });

  it('null, arrays and primitives where an options object belongs', async () => {
    const m = mlp(1);
    const bad = [null, [1], 'fast', 3] as unknown as undefined[];
    for (const o of bad) {
      await expect(m.fit(x, y, o)).rejects.toThrow(/fathom.fit: options must be an object \(or omitted\), got/);
      await expect(m.evaluate(x, y, o)).rejects.toThrow(/fathom.evaluate: options must be an object/);
      expect(() => m.predict(x, o)).toThrow(/fathom.predict: options must be an object/);
    }
    await expect(m.fit(x, y, { loss: 'crossEntropy', callbacks: null as unknown as undefined })).rejects.toThrow(/options.callbacks must be an object or an array, got null/);
  });

  it('options of the wrong type or value, and unknown options', async () => {
    const m = mlp(1);
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ epochs: '5' }, /fathom.fit: options.epochs must be a number, got the string "5"/],
      [{ epochs: 1.5 }, /fathom.fit: epochs must be an integer >= 0, got 1.5/],
      [{ batchSize: 0 }, /fathom.fit: batchSize must be an integer >= 1, got 0/],
      [{ batchSize: NaN }, /batchSize must be an integer >= 1, got NaN/],
      [{ shuffle: 'yes' }, /options.shuffle must be a boolean, got the string "yes"/],
      [{ lr: '0.1' }, /options.lr must be a number/],
      [{ validationSplit: '0.2' }, /options.validationSplit must be a number/],
      [{ validationSplit: 1 }, /validationSplit must be a number in \[0, 1\), got 1/],
      [{ validationData: [x] }, /validationData must be \[x, y\], got an array of 1/],
      [{ validationData: [x, [1, 2]] }, /fathom.fit \(validationData\): y must be a Tensor, got Array/],
      [{ seed: 1.5 }, /seed must be an integer, got 1.5/],
      [{ verbose: 2 }, /verbose must be 0 or 1, got 2/],
      [{ accuracy: 1 }, /options.accuracy must be a boolean, got number 1/],
      [{ accuracyThreshold: Infinity }, /accuracyThreshold must be a finite number/],
      [{ epoch: 5 }, /fathom.fit: unknown option 'epoch' \(did you mean 'epochs'\?\)/],
      [{ callbacks: { onEpochEnds: () => {} } }, /fathom.fit callbacks: unknown hook 'onEpochEnds' \(did you mean 'onEpochEnd'\?\)/],
      [{ callbacks: { onEpochEnd: 'log' } }, /options.onEpochEnd must be a function/],
      [{ progress: {} }, /progress must be an object with batch\(\) and epoch\(\) methods/],
      [{ optimizer: 'lbfgs' }, /optimizer must be an Optimizer or one of 'adam', 'adamw', 'sgd', 'rmsprop', 'adagrad', 'adadelta', 'adamax', got "lbfgs"/],
      [{ optimizer: new optim.SGD(mlp(1).parameters()), lr: 0.1 }, /lr applies to a named optimizer \('adam', 'sgd', …\); the SGD instance has its own/],
      [{ loss: 'cosine' }, /unknown loss 'cosine'/],
      [{ loss: 7 }, /options.loss must be a string or a function, got number 7/],
    ];
    for (const [o, re] of cases) await expect(m.fit(x, y, { loss: 'crossEntropy', ...quiet, ...o } as never), JSON.stringify(o)).rejects.toThrow(re);
    await expect(m.evaluate(x, y, { batchSize: '8' } as never)).rejects.toThrow(/fathom.evaluate: options.batchSize must be a number/);
    await expect(m.evaluate(x, y, { batch: 8 } as never)).rejects.toThrow(/fathom.evaluate: unknown option 'batch' \(did you mean 'batchSize'\?\)/);
    expect(() => m.predict(x, { batchSize: -1 })).toThrow(/fathom.predict: batchSize must be an integer >= 1, got -1/);
    expect(() => m.predict(x, { batchsize: 2 } as never)).toThrow(/unknown option 'batchsize' \(did you mean 'batchSize'\?\)/);
  });

  it('data: non-tensors, mismatched rows, a loss that returns no scalar', async () => {
    const m = mlp(1);
    await expect(m.fit([[1, 2]] as never, y, { loss: 'crossEntropy' })).rejects.toThrow(/fathom.fit: x must be a Tensor, got Array/);
    await expect(m.evaluate(x, y.slice(0, 5))).rejects.toThrow(/fathom.evaluate: x has 8 samples \(shape \[8, 2\]\) but y has 5/);
    expect(() => m.predict('x' as never)).toThrow(/fathom.predict: x must be a Tensor, got string/);
    await expect(m.fit(x, y, { loss: (p: Tensor) => p, ...quiet })).rejects.toThrow(/fathom.fit: the loss function must return a scalar Tensor, got shape \[8, 2\]/);
    await expect(m.fit(x, y, { loss: () => 1 as never, ...quiet })).rejects.toThrow(/must return a scalar Tensor, got number/);
  });
});

describe('fit names the data set when its shapes do not fit', () => {
  it('validationData is checked before any training, the training data on its first batch', async () => {
    const model = new nn.Sequential(new nn.Linear(3, 2));
    const x = randn([40, 3]);
    const y = tensor(new Int32Array(40));
    let batches = 0;
    await expect(model.fit(x, y, {
      loss: 'crossEntropy', epochs: 1, batchSize: 8, verbose: 0,
      validationData: [randn([10, 4]), tensor(new Int32Array(10))],
      callbacks: { onBatchEnd: () => { batches++; } },
    })).rejects.toThrow(/^fathom.fit: validationData \(x \[10, 4\], y \[10\]\) does not fit Sequential and the crossEntropy loss: .*Linear/);
    expect(batches).toBe(0);
    await expect(model.fit(randn([40, 5]), y, { loss: 'crossEntropy', verbose: 0 }))
      .rejects.toThrow(/^fathom.fit: the training data \(x \[40, 5\], y \[40\]\) does not fit Sequential and the crossEntropy loss/);
  });
});

describe('binaryCrossEntropy after a final Sigmoid', () => {
  it('warns once per model: the loss takes logits', async () => {
    const warnings: string[] = [];
    const on = (w: Error) => warnings.push(w.message);
    process.on('warning', on);
    try {
      const model = new nn.Sequential(new nn.Linear(2, 1), new nn.Sigmoid());
      const x = randn([8, 2]);
      const y = tensor(new Float32Array(8), [8, 1]);
      await model.fit(x, y, { loss: 'binaryCrossEntropy', verbose: 0 });
      await model.fit(x, y, { loss: 'binaryCrossEntropy', verbose: 0 });
      await new nn.Sequential(new nn.Linear(2, 1)).fit(x, y, { loss: 'binaryCrossEntropy', verbose: 0 });
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', on);
    }
    expect(warnings.filter((m) => m.includes('ends with Sigmoid'))).toHaveLength(1);
  });
});

describe('callbacks as a list (Keras style)', () => {
  it('runs every entry in order and stops when any onEpochEnd returns false', async () => {
    const model = new nn.Sequential(new nn.Linear(2, 1));
    const seen: string[] = [];
    const h = await model.fit(randn([8, 2]), randn([8, 1]), {
      loss: 'mse', epochs: 5, verbose: 0,
      callbacks: [
        { onEpochEnd: (e) => { seen.push(`a${e}`); } },
        { onEpochEnd: (e) => { seen.push(`b${e}`); return e < 1; } },
      ],
    });
    expect(seen).toEqual(['a0', 'b0', 'a1', 'b1']);
    expect(h.epochs).toHaveLength(2);
    await expect(model.fit(randn([8, 2]), randn([8, 1]), { callbacks: [{ onEpochEnd: 3 as never }] }))
      .rejects.toThrow(/fathom.fit callbacks\[0\]: options.onEpochEnd must be a function/);
  });
});
