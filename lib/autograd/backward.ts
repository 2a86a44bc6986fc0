/**
 * Reverse-mode differentiation over the tape. Gradients are accumulated per
 * tensor while walking the graph in reverse topological order; leaves that
 * require grad receive them in `.grad` (added to any gradient already there,
 * as in PyTorch). The graph is released afterwards so memory does not grow.
 */
import { Tensor } from '../tensor/tensor.js';
import { describeValue, fmt, sameShape } from '../tensor/shape.js';
import { ACCUMULATED, gradients } from './gradients.js';
import { setGradEnabled } from './tape.js';
import { binaryRaw } from '../ops/elementwise.js';
import { checkFloat, checkStorage, empty } from '../ops/record.js';
import { kernels as backend } from '../backend/index.js';

function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS (deep networks and long sequences would overflow recursion).
  const stack: [Tensor, number][] = [[root, 0]];
  seen.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [t, i] = top;
    if (t.node?.released) {
      // Checked before any gradient is written, so a refused call changes nothing.
      throw new Error(
        'fathom.backward: trying to backward through the graph a second time; its intermediate ' +
          'results were freed by the first backward() (recompute the forward pass)',
      );
    }
    const inputs = t.node ? t.node.inputs : [];
    if (i < inputs.length) {
      top[1] = i + 1;
      const next = inputs[i];
      if (next.requiresGrad && !seen.has(next)) {
        seen.add(next);
        stack.push([next, 0]);
      }
    } else {
      stack.pop();
      order.push(t);
    }
  }
  return order.reverse();
}

/**
 * Back-propagates from `root`: a one-element tensor (upstream gradient 1), or
 * any tensor with an explicit float32 `grad` of its shape.
 * @throws when root does not require grad, grad is missing for a
 *   non-scalar, is not a float32 Tensor of root's shape, or has lost its
 *   storage; or when the graph was already released by an earlier backward().
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!(root instanceof Tensor)) throw new Error(`fathom.backward: expected a Tensor, got ${describeValue(root)}`);
  if (!root.requiresGrad) {
    throw new Error('fathom.backward: this tensor does not require grad (no parameter with requiresGrad contributed to it)');
  }
  if (grad === undefined) {
    if (root.size !== 1) {
      throw new Error(`fathom.backward: can only start from a scalar without an explicit gradient, got shape ${fmt(root.shape)}`);
    }
    grad = new Tensor(new Float32Array([1]), root.shape);
  } else {
    checkFloat('backward', 'grad', grad);
    if (!sameShape(grad.shape, root.shape)) {
      throw new Error(`fathom.backward: gradient shape ${fmt(grad.shape)} does not match the tensor's shape ${fmt(root.shape)}`);
    }
  }
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  const prev = setGradEnabled(false);
  try {
    const order = topoOrder(root);
    // Checked before any gradient is written: a tensor of the graph whose buffer was transferred
    // since the forward pass would read as NaN (or zeros) in the rules.
    for (const t of order) {
      const node = t.node;
      if (!node) {
        const buf = t.gradBuffer();
        if (buf) checkStorage('backward', `the existing .grad of a leaf of shape ${fmt(t.shape)}`, buf);
        continue;
      }
      checkStorage('backward', `the output of '${node.op}'`, t);
      node.inputs.forEach((x, i) => checkStorage('backward', `input ${i} of '${node.op}'`, x));
      for (const [k, v] of Object.entries(node.saved)) if (v instanceof Tensor) checkStorage('backward', `'${k}' saved by '${node.op}'`, v);
    }
    for (const t of order) {
      const g = grads.get(t);
      if (!g) continue;
      grads.delete(t);
      const node = t.node;
      if (!node) {
        // A leaf: accumulate into .grad (in place when a buffer of the right shape is there;
        // a buffer marked zero by zeroGrad is overwritten).
        const have = t.gradBuffer();
        if (have && have.dtype === 'float32' && sameShape(have.shape, g.shape)) {
          if (t.gradIsZero) backend().copy(g.f32(), have.f32());
          else backend().binary('add', have.f32(), g.f32(), have.f32());
          t.gradIsZero = false;
        } else {
          // A first gradient is copied: rules may hand the same tensor to several inputs
          // (add passes dy through), and .grad buffers are later added into in place.
          t.grad = have && !t.gradIsZero ? binaryRaw('add', have, g) : g.clone();
        }
        continue;
      }
      const rule = gradients[node.op];
      if (!rule) throw new Error(`fathom.backward: no gradient rule for op '${node.op}'`);
      // An empty output carries no gradient (every input's is zero), and empty inputs need
      // none computed: no rule (and so no kernel loop over a huge dimension beside a 0) runs.
      const skipRule = g.size === 0 || node.inputs.every((x) => x.size === 0);
      // Leaves with a gradient buffer already (kept by zeroGrad) can be added into directly.
      const acc = node.inputs.map((x, i) => {
        if (node.inputs.indexOf(x) !== i) return null; // the same tensor twice: one direct write only
        const b = x.gradBuffer();
        return x.requiresGrad && !x.node && b && b.dtype === 'float32' && !b.requiresGrad && sameShape(b.shape, x.shape) ? b : null;
      });
      const accBeta = node.inputs.map((x) => (x.gradIsZero ? 0 : 1));
      const inGrads = skipRule ? node.inputs.map((x) => empty(x.shape, 'backward')) : rule(node, t, g, acc, accBeta);
      node.inputs.forEach((x, i) => {
        const gi = inGrads[i];
        if (gi === ACCUMULATED) {
          x.gradIsZero = false;
          return;
        }
        if (!gi || !x.requiresGrad) return;
        const have = grads.get(x);
        grads.set(x, have ? binaryRaw('add', have, gi) : gi);
      });
      // Release the graph behind this node (PyTorch's retain_graph=False).
      node.inputs = [];
      node.saved = {};
      node.released = true;
    }
  } finally {
    setGradEnabled(prev);
  }
}
