// Layers and losses refuse bad input by name (issue 8, section 2): the layer,
// what it expected and what came.
import { describe, expect, it } from 'vitest';
import { losses, nn, setBackend, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

describe('layer constructors', () => {
  it('Linear: sizes, options object, option types, unknown options', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new nn.Linear('2' as never, 1), /fathom.Linear: inFeatures must be a positive integer, got "2"/],
      [() => new nn.Linear(2, 0), /fathom.Linear: outFeatures must be a positive integer, got 0/],
      [() => new nn.Linear(2, 1.5), /outFeatures must be a positive integer, got 1.5/],
      [() => new nn.Linear(2, 1, null as never), /fathom.Linear: options must be an object \(or omitted\), got null/],
      [() => new nn.Linear(2, 1, 'he' as never), /fathom.Linear: options must be an object \(or omitted\), got "he"/],
      [() => new nn.Linear(2, 1, { bias: 'no' } as never), /fathom.Linear: options.bias must be a boolean, got the string "no"/],
      [() => new nn.Linear(2, 1, { seed: '7' } as never), /fathom.Linear: options.seed must be a number, got the string "7"/],
      [() => new nn.Linear(2, 1, { seed: NaN }), /fathom.Linear: options.seed must be a finite number, got NaN/],
      [() => new nn.Linear(2, 1, { init: 5 } as never), /fathom.Linear: options.init must be a string, got number 5/],
      [() => new nn.Linear(2, 1, { init: 'xavier' } as never), /fathom.Linear: unknown init 'xavier'/],
      [() => new nn.Linear(2, 1, { bais: false } as never), /fathom.Linear: unknown option 'bais' \(did you mean 'bias'\?\)/],
      // Refused before allocating 2^40 weights.
      [() => new nn.Linear(2 ** 20, 2 ** 20), /fathom.Linear: 1048576 × 1048576 = 1099511627776 weights is more than one tensor can hold/],
      [() => new nn.Sequential(new nn.ReLU(), 'relu' as never), /fathom.Sequential: argument 1 is not a Module/],
    ];
    for (const [f, re] of cases) expect(f).toThrow(re);
  });
});

describe.each(backends)('forward names the layer and what it expected (%s backend)', (name) => {
  it('non-Tensor inputs', () => {
    setBackend(name);
    const lin = new nn.Linear(2, 3);
    for (const bad of [undefined, null, [[1, 2]], 3, { shape: [1, 2] }]) {
      expect(() => lin.forward(bad as never)).toThrow(/fathom.Linear: expected a Tensor input \[\*, 2\], got /);
      expect(() => new nn.ReLU().forward(bad as never)).toThrow(/fathom.ReLU: expected a Tensor input, got /);
      expect(() => new nn.Sequential(lin).forward(bad as never)).toThrow(/fathom.Sequential: expected a Tensor input, got /);
    }
    expect(() => lin.forward([[1, 2]] as never)).toThrow(/got Array$/);
    expect(() => lin.call(undefined as never)).toThrow(/fathom.Linear: expected a Tensor input \[\*, 2\], got undefined/);
  });

  it('wrong shapes and dtypes; Sequential says which layer', () => {
    setBackend(name);
    const lin = new nn.Linear(2, 3);
    expect(() => lin.forward(zeros([4, 3]))).toThrow(/fathom.Linear: expected input \[\*, 2\] \(any rank >= 1, last axis 2\), got \[4, 3\]/);
    expect(() => lin.forward(zeros([3]))).toThrow(/fathom.Linear: expected input \[\*, 2\] \(any rank >= 1, last axis 2\), got \[3\]/);
    expect(() => lin.forward(tensor(new Int32Array(4), [2, 2]))).toThrow(/fathom.Linear: expected a float32 input \[\*, 2\], got int32 \[2, 2\]/);
    expect(() => new nn.Tanh().forward(tensor(new Int32Array(2)))).toThrow(/fathom.Tanh: expected a float32 input, got int32 \[2\]/);
    const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(4, 1));
    expect(() => seq.forward(zeros([5, 2]))).toThrow(/fathom.Sequential: layer 2 \(Linear\): fathom.Linear: expected input \[\*, 4\] \(any rank >= 1, last axis 4\), got \[5, 3\]/);
    // The fused Linear + activation path names the Linear too.
    expect(() => seq.forward(zeros([5, 7]))).toThrow(/fathom.Sequential: layer 0 \(Linear\): fathom.Linear: expected input \[\*, 2\] \(any rank >= 1, last axis 2\), got \[5, 7\]/);
    expect(() => new nn.Softmax().forward(tensor(new Float32Array(1), []))).toThrow(/fathom.Softmax: expected input \[..., classes\] \(rank >= 1\), got a scalar \[\]/);
    class Broken extends nn.Module {
      forward(): Tensor { return 'no' as never; }
    }
    expect(() => new nn.Sequential(new Broken(), new nn.ReLU()).forward(zeros([1, 1])))
      .toThrow(/fathom.Sequential: layer 0 \(Broken\) returned string, expected a Tensor/);
  });
});

describe.each(backends)('losses check the target form (%s backend)', (name) => {
  const logits = tensor([[2, 0, -1], [0, 1, 0], [1, 1, 3], [0, 0, 0]]);

  it('crossEntropy: float class labels, wrong label shapes, wrong one-hot shapes', () => {
    setBackend(name);
    expect(() => losses.crossEntropy(logits, tensor([0, 1, 2, 0])))
      .toThrow(/fathom.crossEntropy: class indices must be int32, got float32 \[4\] \(make them with tensor\(labels, \{ dtype: 'int32' \}\), or pass one-hot rows \[4, 3\]\)/);
    expect(() => losses.crossEntropy(logits, tensor([[0], [1], [2], [0]]))).toThrow(/class indices must be int32, got float32 \[4, 1\]/);
    expect(() => losses.crossEntropy(logits, tensor(new Int32Array(4), [4, 1])))
      .toThrow(/fathom.crossEntropy: class indices must have shape \[4\] for logits \[4, 3\], got \[4, 1\] \(same number of values: reshape the target to \[4\]\)/);
    expect(() => losses.crossEntropy(logits, tensor(new Int32Array(3)))).toThrow(/class indices must have shape \[4\] for logits \[4, 3\], got \[3\]$/);
    expect(() => losses.crossEntropy(logits, zeros([4, 2]))).toThrow(/fathom.crossEntropy: target must be int32 class indices \[4\] or float32 one-hot rows \[4, 3\], got float32 \[4, 2\]/);
    expect(() => losses.crossEntropy(zeros([3]), tensor(new Int32Array(3)))).toThrow(/fathom.crossEntropy: for unbatched logits \[3\] the target must be a scalar int32 class index \[\], got int32 \[3\]/);
    expect(() => losses.crossEntropy(logits, [0, 1, 2, 0] as never)).toThrow(/fathom.crossEntropy: target must be a Tensor, got Array/);
    expect(() => losses.crossEntropy(undefined as never, tensor(new Int32Array(4)))).toThrow(/fathom.crossEntropy: logits must be a Tensor, got undefined/);
    // The right forms still agree with each other: labels and their one-hot rows.
    const byLabel = losses.crossEntropy(logits, tensor(new Int32Array([0, 1, 2, 0]))).item();
    const byOneHot = losses.crossEntropy(logits, tensor([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]])).item();
    expect(byLabel).toBeCloseTo(byOneHot, 6);
  });

  it('binaryCrossEntropy: int32 targets, [n] for [n, 1], values outside [0, 1]', () => {
    setBackend(name);
    const z = tensor([[0.5], [-1], [2], [0]]);
    expect(() => losses.binaryCrossEntropy(z, tensor(new Int32Array([0, 1, 1, 0]), [4, 1])))
      .toThrow(/fathom.binaryCrossEntropy: target must be float32 0\/1 labels or probabilities, got int32 \[4, 1\]/);
    expect(() => losses.binaryCrossEntropy(z, tensor([0, 1, 1, 0])))
      .toThrow(/fathom.binaryCrossEntropy: target must have the logits' shape \[4, 1\], got \[4\] \(same number of values: reshape the target to \[4, 1\]\)/);
    expect(() => losses.binaryCrossEntropy(z, tensor([[0], [2], [1], [0]]))).toThrow(/fathom.binaryCrossEntropy: targets must lie in \[0, 1\], got 2 at flat index 1/);
    expect(() => losses.binaryCrossEntropy(z, tensor([[0], [NaN], [1], [0]]))).toThrow(/targets must lie in \[0, 1\], got NaN at flat index 1/);
    // mean(max(z,0) - z t + log(1 + e^-|z|)) for z = 0, t = 1: log 2.
    expect(losses.binaryCrossEntropy(tensor([[0]]), tensor([[1]])).item()).toBeCloseTo(Math.LN2, 6);
  });

  it('mse: int32 targets and shapes that only differ by a unit axis', () => {
    setBackend(name);
    const p = zeros([4, 1]);
    expect(() => losses.mse(p, tensor(new Int32Array(4), [4, 1]))).toThrow(/fathom.mse: target must be float32, got int32 \[4, 1\]/);
    expect(() => losses.mse(p, zeros([4]))).toThrow(/fathom.mse: target must have the predictions' shape \[4, 1\], got \[4\] \(same number of values: reshape the target to \[4, 1\]\)/);
    expect(() => losses.mse(p, zeros([3, 1]))).toThrow(/got \[3, 1\]$/);
    expect(() => losses.lossByName(5 as never)).toThrow(/fathom: unknown loss number/);
  });
});
