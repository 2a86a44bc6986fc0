/**
 * A recursive neural network over arithmetic-expression trees (Socher et al.,
 * "Parsing Natural Scenes and Natural Language with Recursive Neural
 * Networks", ICML 2011): the network is built anew for every sample by
 * recursion over its tree, on the autograd tape — a dynamic graph.
 *
 * - Trees: digits 0–9 at the leaves, an operator (+ − ×) at each internal
 *   node, drawn by a seeded generator at an exact depth (height).
 * - Task: the expression's value mod 10 (10 classes).
 * - Model: a leaf is its digit's embedding (nn.Embedding(10, D)); an internal
 *   node with operator o and children vectors l, r [1, D] is
 *   tanh(W_o [l; r] + b_o) — one composition layer nn.Linear(2D, D) per
 *   operator, shared by every node of every tree; the root's vector goes
 *   through a classifier nn.Linear(D, 10).
 * - Baselines: the majority class, and a "bag of symbols" MLP that sees how
 *   many times each digit and each operator occurs but not where (no structure).
 *
 * Everything that touches fathom takes the library as an argument (`fm`, the
 * module namespace: `import * as fm from 'fathom'`), so the example runs on
 * the installed package and the test on the sources, with one code path.
 */

/** The operators and their mod-10 semantics. */
export const OPS = Object.freeze(['+', '-', '*']);
const APPLY = { '+': (a, b) => a + b, '-': (a, b) => a - b, '*': (a, b) => a * b };
const mod10 = (v) => ((v % 10) + 10) % 10;

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function makeRng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A random expression tree of height exactly `depth` (0: one digit): the
 * root is internal, one child (left or right at random) has height depth − 1,
 * the other a height drawn uniformly in [0, depth − 1].
 * Leaf: `{ digit }`; internal node: `{ op, left, right }`.
 */
export function randomTree(rng, depth, ops = OPS) {
  if (!Number.isInteger(depth) || depth < 0) throw new Error(`tree-rnn.randomTree: depth must be an integer >= 0, got ${depth}`);
  if (depth === 0) return { digit: Math.floor(rng() * 10) };
  const op = ops[Math.floor(rng() * ops.length)];
  const other = Math.floor(rng() * depth);
  const deepLeft = rng() < 0.5;
  const left = randomTree(rng, deepLeft ? depth - 1 : other, ops);
  const right = randomTree(rng, deepLeft ? other : depth - 1, ops);
  return { op, left, right };
}

/** The expression's value mod 10 (computed mod 10 at every node, so deep × trees never overflow). */
export function treeLabel(t) {
  return 'digit' in t ? t.digit : mod10(APPLY[t.op](treeLabel(t.left), treeLabel(t.right)));
}

/** Height: 0 for a digit. */
export function treeDepth(t) {
  return 'digit' in t ? 0 : 1 + Math.max(treeDepth(t.left), treeDepth(t.right));
}

/** Infix with parentheses, e.g. `((3*4)-7)`. */
export function treeString(t) {
  return 'digit' in t ? String(t.digit) : `(${treeString(t.left)}${t.op}${treeString(t.right)})`;
}

/** Counts of each digit then of each operator: what the bag-of-symbols baseline sees. */
export function symbolCounts(t, ops = OPS) {
  const c = new Array(10 + ops.length).fill(0);
  const walk = (n) => {
    if ('digit' in n) c[n.digit]++;
    else {
      c[10 + ops.indexOf(n.op)]++;
      walk(n.left);
      walk(n.right);
    }
  };
  walk(t);
  return c;
}

/**
 * `n` trees, `depths` cycling over the list (so each depth has ~n/len
 * trees), from the seed. Returns `{ trees, labels, depths }`.
 */
export function makeDataset(seed, n, depths = [1, 2, 3], ops = OPS) {
  const rng = makeRng(seed);
  const trees = [];
  for (let i = 0; i < n; i++) trees.push(randomTree(rng, depths[i % depths.length], ops));
  return { trees, labels: trees.map(treeLabel), depths: trees.map(treeDepth) };
}

/** The most frequent label of `train` and its accuracy on `test` (label arrays). */
export function majorityBaseline(trainLabels, testLabels) {
  const counts = new Array(10).fill(0);
  for (const y of trainLabels) counts[y]++;
  const cls = counts.indexOf(Math.max(...counts));
  const hits = testLabels.filter((y) => y === cls).length;
  return { cls, accuracy: testLabels.length ? hits / testLabels.length : NaN };
}

/**
 * The recursive network as an nn.Module subclass of the given fathom.
 * `forwardTree(t)` → the node's vector [1, D]; `forward(trees)` → logits [N, 10]
 * (each tree built by recursion on the tape, the roots stacked, one classifier GEMM).
 */
export function createTreeRnn(fm, { dim = 32, ops = OPS, seed = 1 } = {}) {
  const { nn } = fm;
  class TreeRNN extends nn.Module {
    constructor() {
      super();
      fm.manualSeed(seed);
      this.dim = dim;
      this.ops = [...ops];
      this.leaf = new nn.Embedding(10, dim, { seed });
      // PyTorch's N(0, 1) embedding init is large next to tanh outputs: scale it to their range.
      this.leaf.weight.f32().forEach((v, i, a) => { a[i] = v * 0.5; });
      this.compose = this.ops.map(() => new nn.Linear(2 * dim, dim));
      this.classifier = new nn.Linear(dim, 10);
      this.digits = Array.from({ length: 10 }, (_, d) => fm.tensor([d], { dtype: 'int32' }));
    }

    /** The vector of tree node `t`, [1, D]. */
    forwardTree(t) {
      if ('digit' in t) return this.leaf.forward(this.digits[t.digit]);
      const c = this.compose[this.ops.indexOf(t.op)];
      const lr = fm.concat([this.forwardTree(t.left), this.forwardTree(t.right)], 1);
      return fm.linear(lr, c.weight, c.bias, 'tanh');
    }

    /** Logits [N, 10] of a list of trees. */
    forward(trees) {
      return this.classifier.forward(fm.concat(trees.map((t) => this.forwardTree(t)), 0));
    }
  }
  return new TreeRNN();
}

/** Fraction of `trees` whose argmax logit is the label, in eval mode without the tape. */
export function accuracy(fm, model, trees, labels, batch = 256) {
  let hits = 0;
  fm.noGrad(() => {
    for (let i = 0; i < trees.length; i += batch) {
      const pred = fm.argmax(model.forward(trees.slice(i, i + batch)), -1).data;
      for (let j = 0; j < pred.length; j++) if (pred[j] === labels[i + j]) hits++;
    }
  });
  return trees.length ? hits / trees.length : NaN;
}

/**
 * Trains the tree network with Adam over shuffled minibatches of trees: per
 * batch, the trees are built on the tape, their mean cross-entropy is one
 * loss, backward once, one step. `data` is `{ trees, labels }` (the same set
 * every epoch) or `(epoch) => ({ trees, labels })` (e.g. freshly generated
 * trees each epoch). Returns `{ seconds, trees, treesPerSecond, losses }`
 * (mean loss per epoch). `onEpoch(epoch, loss)` is called after each epoch.
 */
export function trainTreeRnn(fm, model, data, { epochs = 10, batchSize = 32, lr = 5e-3, seed = 1, onEpoch } = {}) {
  const opt = new fm.optim.Adam(model.parameters(), { lr });
  const rng = makeRng(seed);
  const losses = [];
  let seen = 0;
  let seconds = 0;
  for (let e = 0; e < epochs; e++) {
    const { trees, labels } = typeof data === 'function' ? data(e) : data;
    const idx = trees.map((_, i) => i);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    const t0 = performance.now();
    let sum = 0;
    for (let b = 0; b < idx.length; b += batchSize) {
      const ids = idx.slice(b, b + batchSize);
      const logits = model.forward(ids.map((i) => trees[i]));
      const loss = fm.losses.crossEntropy(logits, fm.tensor(ids.map((i) => labels[i]), { dtype: 'int32' }));
      opt.zeroGrad();
      loss.backward();
      opt.step();
      sum += loss.item() * ids.length;
    }
    seconds += (performance.now() - t0) / 1000;
    seen += idx.length;
    losses.push(sum / idx.length);
    onEpoch?.(e, sum / idx.length);
  }
  return { seconds, trees: seen, treesPerSecond: seen / seconds, losses };
}

/** The bag-of-symbols features [N, 10 + ops] (float32 counts) of `trees`. */
export function bagFeatures(fm, trees, ops = OPS) {
  const k = 10 + ops.length;
  const x = new Float32Array(trees.length * k);
  trees.forEach((t, i) => x.set(symbolCounts(t, ops), i * k));
  return fm.tensor(x, [trees.length, k]);
}

/**
 * The structure-blind baseline: an MLP (counts → hidden tanh → 10) trained
 * with fit on the bag-of-symbols features. Returns its accuracy on the test trees.
 */
export async function bagBaseline(fm, train, test, { hidden = 64, epochs = 10, lr = 1e-2, seed = 1, ops = OPS } = {}) {
  const { nn } = fm;
  fm.manualSeed(seed);
  const k = 10 + ops.length;
  const model = new nn.Sequential(new nn.Linear(k, hidden), new nn.Tanh(), new nn.Linear(hidden, hidden), new nn.Tanh(), new nn.Linear(hidden, 10));
  const x = bagFeatures(fm, train.trees, ops);
  const y = fm.tensor(train.labels, { dtype: 'int32' });
  await model.fit(x, y, { loss: 'crossEntropy', optimizer: new fm.optim.Adam(model.parameters(), { lr }), epochs, batchSize: 64, seed, verbose: 0 });
  const pred = fm.argmax(model.predict(bagFeatures(fm, test.trees, ops)), -1).data;
  return { model, accuracy: (ids) => ids.filter((i) => pred[i] === test.labels[i]).length / ids.length };
}
