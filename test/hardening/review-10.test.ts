// Review of the #10 CNN/sequence work: PyTorch semantics a fresh user expected
// (Linear over the last axis, crossEntropy's ignoreIndex and [N, C, d…] form,
// printed array settings, clamped slicing, constructor-time validation,
// loadStateDict strict: false, error hints, RNN dropout warning).
import { describe, expect, it, vi } from 'vitest';
import { conv2d, convTranspose2d, linear, nn, setBackend, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

function seq(n: number, scale = 0.1): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => ((i * 7) % 11 - 5) * scale);
}
function close(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-5): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThanOrEqual(tol * (1 + Math.abs(b[i])));
}

describe.each(backends)('Linear over the last axis (%s)', (name) => {
  it('[*, in] → [*, out] equals the row-by-row 2-D result, with gradients; 1-D [in] → [out]', () => {
    setBackend(name);
    const lin = new nn.Linear(4, 3, { seed: 1 });
    lin.bias!.data.set([0.5, -0.25, 0.125]);
    const x3 = tensor(seq(2 * 5 * 4), [2, 5, 4]).requireGrad();
    const y3 = lin.forward(x3);
    expect(y3.shape).toEqual([2, 5, 3]);
    const lin2 = new nn.Linear(4, 3);
    lin2.weight.data.set(lin.weight.data);
    lin2.bias!.data.set(lin.bias!.data);
    const x2 = tensor(seq(2 * 5 * 4), [10, 4]).requireGrad();
    const y2 = lin2.forward(x2);
    close(y3.data as Float32Array, y2.data as Float32Array);
    // Hand check of one row: y[1,2,:] = x[1,2,:] Wᵀ + b.
    const W = lin.weight.data as Float32Array, xd = x3.data as Float32Array;
    for (let o = 0; o < 3; o++) {
      let s = lin.bias!.data[o];
      for (let i = 0; i < 4; i++) s += xd[(1 * 5 + 2) * 4 + i] * W[o * 4 + i];
      expect(y3.data[(1 * 5 + 2) * 3 + o]).toBeCloseTo(s, 5);
    }
    y3.square().sum().backward();
    const g3 = Float32Array.from(lin.weight.grad!.data as Float32Array);
    expect(x3.grad!.shape).toEqual([2, 5, 4]);
    y2.square().sum().backward();
    close(g3, lin2.weight.grad!.data as Float32Array, 1e-4);
    close(lin.bias!.grad!.data as Float32Array, lin2.bias!.grad!.data as Float32Array, 1e-4);
    close(x3.grad!.data as Float32Array, x2.grad!.data as Float32Array, 1e-4);
    const y1 = lin.forward(tensor(seq(4), [4]));
    expect(y1.shape).toEqual([3]);
    close(y1.data as Float32Array, (y2.data as Float32Array).subarray(0, 3));
    // 4-D and the functional form.
    const x4 = tensor(seq(2 * 3 * 2 * 4), [2, 3, 2, 4]);
    const f4 = linear(x4, lin.weight, lin.bias, 'relu');
    expect(f4.shape).toEqual([2, 3, 2, 3]);
    const f2 = linear(tensor(seq(2 * 3 * 2 * 4), [12, 4]), lin.weight, lin.bias, 'relu');
    close(f4.data as Float32Array, f2.data as Float32Array);
  });

  it('Sequential fuses Linear + activation on N-D input; errors still name the layer and shapes', () => {
    setBackend(name);
    const m = new nn.Sequential(new nn.Linear(4, 6, { seed: 2 }), new nn.Tanh(), new nn.Linear(6, 2, { seed: 3 }));
    const x = tensor(seq(3 * 7 * 4), [3, 7, 4]);
    const y = m.forward(x);
    expect(y.shape).toEqual([3, 7, 2]);
    close(y.data as Float32Array, m.forward(tensor(seq(3 * 7 * 4), [21, 4])).data as Float32Array);
    expect(() => m.forward(tensor(seq(3 * 7 * 5), [3, 7, 5]))).toThrow(/fathom.Sequential: layer 0 \(Linear\).*fathom.Linear: expected input \[\*, 4\].*got \[3, 7, 5\]/);
    expect(() => new nn.Linear(4, 2).forward(tensor(1))).toThrow(/fathom.Linear: expected input \[\*, 4\].*got \[\]/);
  });
});

describe('printing a module shows its array settings', () => {
  it('kernelSize, normalizedShape, outputSize (null inside arrays), nested in Sequential', () => {
    expect(String(new nn.Conv2d(1, 16, 5))).toBe('Conv2d(inChannels=1, outChannels=16, kernelSize=[5, 5], bias=true)');
    expect(String(new nn.MaxPool2d([2, 3]))).toBe('MaxPool2d(kernelSize=[2, 3])');
    expect(String(new nn.LayerNorm([8]))).toBe('LayerNorm(normalizedShape=[8], eps=0.00001, elementwiseAffine=true)');
    expect(String(new nn.AdaptiveAvgPool2d([null, 3]))).toBe('AdaptiveAvgPool2d(outputSize=[null, 3])');
    expect(String(new nn.Sequential(new nn.Conv2d(1, 2, 3, { stride: 2 }), new nn.Flatten())))
      .toBe('Sequential(\n  (0): Conv2d(inChannels=1, outChannels=2, kernelSize=[3, 3], stride=2, bias=true)\n  (1): Flatten(startDim=1, endDim=-1)\n)');
  });
});

describe.each(backends)('slice clamps as Python/PyTorch slicing; narrow stays strict (%s)', (name) => {
  it('x[7552:7616] of 7579 rows gives 27 rows; begin/end clamped on every axis; gradients land in place', () => {
    setBackend(name);
    const rows = tensor(Float32Array.from({ length: 7579 * 2 }, (_, i) => i), [7579, 2]);
    const last = rows.slice(7552, 7616);
    expect(last.shape).toEqual([27, 2]);
    expect(last.data[0]).toBe(7552 * 2);
    expect(rows.slice(-9000, 2).shape).toEqual([2, 2]);
    expect(rows.slice(8000, 9000).shape).toEqual([0, 2]);
    const x = tensor(seq(12), [2, 3, 2]).requireGrad();
    const y = x.slice(1, 99, 1); // x[:, 1:99]
    expect(y.shape).toEqual([2, 2, 2]);
    expect(Array.from(y.data)).toEqual([2, 3, 4, 5, 8, 9, 10, 11].map((i) => x.data[i]));
    expect(x.slice(-7, -1, -1).shape).toEqual([2, 3, 1]); // begin clamped to 0 on the last axis
    expect(x.slice(5, 2, 2).shape).toEqual([2, 3, 0]);
    y.sum().backward();
    expect(Array.from(x.grad!.data)).toEqual([0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1]);
    expect(() => x.slice(0.5, 2)).toThrow(/^fathom\.slice: begin must be an integer, got 0\.5$/);
    expect(() => x.slice(0, Infinity, 1)).toThrow(/^fathom\.slice: end must be an integer, got Infinity$/);
    expect(() => x.narrow(1, 1, 5)).toThrow(/fathom\.narrow: length must be an integer in \[0, 2\]/);
  });
});

describe('conv and pool layers refuse bad settings at construction, with the op\'s messages', () => {
  it('Conv2d / Conv1d / ConvTranspose2d', () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new nn.Conv2d(1, 2, 3, { padding: 'SAME' as never }), /^fathom\.Conv2d: padding must be a number, a pair, 'same' or 'valid', got "SAME"$/],
      [() => new nn.Conv2d(1, 2, 3, { padding: -1 }), /^fathom\.Conv2d: padding must be an integer >= 0, got -1$/],
      [() => new nn.Conv2d(1, 2, 3, { padding: [1, -2] }), /^fathom\.Conv2d: padding\[1\] must be an integer >= 0, got -2$/],
      [() => new nn.Conv2d(1, 2, 3, { stride: 0 }), /^fathom\.Conv2d: stride must be an integer >= 1, got 0$/],
      [() => new nn.Conv2d(1, 2, 3, { dilation: 1.5 }), /^fathom\.Conv2d: dilation must be an integer >= 1, got 1\.5$/],
      [() => new nn.Conv2d(1, 2, 3, { stride: 2, padding: 'same' }), /^fathom\.Conv2d: padding 'same' needs stride 1, got stride 2×2$/],
      [() => new nn.Conv1d(1, 2, 3, { padding: 'SAME' as never }), /^fathom\.Conv1d: padding must be a number, a pair, 'same' or 'valid', got "SAME"$/],
      [() => new nn.Conv1d(1, 2, 3, { stride: 0 }), /^fathom\.Conv1d: stride must be an integer >= 1, got 0$/],
      [() => new nn.ConvTranspose2d(1, 2, 3, { stride: 2, outputPadding: 2 }), /^fathom\.ConvTranspose2d: outputPadding 2×2 must be smaller than stride 2×2 or dilation 1×1$/],
      [() => new nn.ConvTranspose2d(1, 2, 3, { outputPadding: [0, 1] }), /^fathom\.ConvTranspose2d: outputPadding 0×1 must be smaller than stride 1×1 or dilation 1×1$/],
      [() => new nn.ConvTranspose2d(1, 2, 3, { padding: 'same' as never }), /^fathom\.ConvTranspose2d: padding must be a number or a pair \[padH, padW\], got "same"$/],
      [() => new nn.ConvTranspose2d(1, 2, 3, { padding: -1 }), /^fathom\.ConvTranspose2d: padding must be an integer >= 0, got -1$/],
    ];
    for (const [f, re] of cases) expect(f).toThrow(re);
    // The same words as the functional op gives at the first forward.
    const x = zeros([1, 1, 5, 5]);
    expect(() => conv2d(x, zeros([2, 1, 3, 3]), null, { padding: -1 })).toThrow(/^fathom\.conv2d: padding must be an integer >= 0, got -1$/);
    expect(() => convTranspose2d(x, zeros([1, 2, 3, 3]), null, { stride: 2, outputPadding: 2 })).toThrow(/^fathom\.convTranspose2d: outputPadding 2×2 must be smaller than stride 2×2 or dilation 1×1$/);
    // Valid settings still construct: outputPadding < dilation is enough, as PyTorch.
    expect(new nn.ConvTranspose2d(1, 2, 3, { dilation: 2, outputPadding: 1 }).forward(x).shape).toEqual([1, 2, 10, 10]);
    expect(new nn.Conv2d(1, 2, 3, { padding: 'same' }).forward(x).shape).toEqual([1, 2, 5, 5]);
  });

  it('MaxPool2d / AvgPool2d', () => {
    expect(() => new nn.MaxPool2d(2, { padding: 'SAME' as never })).toThrow(/^fathom\.MaxPool2d: padding must be a non-negative integer or a pair \[h, w\] of them, got "SAME"$/);
    expect(() => new nn.MaxPool2d(2, { padding: -1 })).toThrow(/^fathom\.MaxPool2d: padding must be a non-negative integer/);
    expect(() => new nn.MaxPool2d(2, { stride: 0 })).toThrow(/^fathom\.MaxPool2d: stride must be a positive integer or a pair \[h, w\] of them, got 0$/);
    expect(() => new nn.AvgPool2d(2, { stride: 0 })).toThrow(/^fathom\.AvgPool2d: stride must be a positive integer/);
    expect(() => new nn.AvgPool2d(3, { padding: 'same' as never })).toThrow(/^fathom\.AvgPool2d: padding must be a non-negative integer/);
  });
});

describe('loadStateDict(dict, { strict })', () => {
  const net = () => new nn.Sequential(new nn.Linear(2, 3, { seed: 1 }), new nn.BatchNorm1d(3), new nn.Linear(3, 1, { seed: 2 }));
  it('strict (default) returns empty key lists; strict: false loads the matching keys and lists the others', () => {
    const a = net(), b = net();
    (a.stateDict()['0.weight'].data as Float32Array).fill(0.5);
    expect(b.loadStateDict(a.stateDict())).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(b.stateDict()['0.weight'].data[0]).toBe(0.5);
    const c = net();
    const part: Record<string, Tensor> = { '0.weight': tensor(new Float32Array(6).fill(2), [3, 2]), 'head.weight': tensor([1]) };
    const before = Array.from(c.stateDict()['2.weight'].data);
    const r = c.loadStateDict(part, { strict: false });
    expect(r.unexpectedKeys).toEqual(['head.weight']);
    expect(r.missingKeys).toEqual(['0.bias', '1.weight', '1.bias', '1.running_mean', '1.running_var', '1.num_batches_tracked', '2.weight', '2.bias']);
    expect(Array.from(c.stateDict()['0.weight'].data)).toEqual([2, 2, 2, 2, 2, 2]);
    expect(Array.from(c.stateDict()['2.weight'].data)).toEqual(before);
  });
  it('shape mismatches still throw (nothing copied); buffers are called buffers; unknown options refused', () => {
    const c = net();
    const w0 = Array.from(c.stateDict()['0.weight'].data);
    const bad = { '0.weight': tensor(new Float32Array(6).fill(9), [3, 2]), '2.weight': tensor(new Float32Array(2), [1, 2]) };
    expect(() => c.loadStateDict(bad, { strict: false })).toThrow(/^fathom\.loadStateDict: parameter '2\.weight' has shape \[1, 3\], the state dict has \[1, 2\]$/);
    expect(Array.from(c.stateDict()['0.weight'].data)).toEqual(w0);
    const sd = { ...net().stateDict() };
    delete sd['1.running_mean'];
    expect(() => c.loadStateDict(sd)).toThrow(/^fathom\.loadStateDict: missing buffer '1\.running_mean'$/);
    delete sd['0.bias'];
    expect(() => c.loadStateDict(sd)).toThrow(/^fathom\.loadStateDict: missing parameter '0\.bias'$/);
    expect(() => c.loadStateDict(sd, { strict: 'no' } as never)).toThrow(/^fathom\.loadStateDict: options\.strict must be a boolean/);
    expect(() => c.loadStateDict(sd, { strcit: false } as never)).toThrow(/^fathom\.loadStateDict: unknown option 'strcit'/);
  });
});

describe('layout hints and the batch shape in layer errors', () => {
  it('Conv2d: NHWC input hints permute(0, 3, 1, 2); a flat [N, H·W] batch hints reshape; Conv1d NLC hints permute(0, 2, 1)', () => {
    const conv = new nn.Conv2d(3, 4, 3);
    expect(() => conv.forward(zeros([2, 8, 8, 3]))).toThrow(/^fathom\.Conv2d: expected a float32 input \[N, 3, H, W\], got float32 \[2, 8, 8, 3\] \(fathom is NCHW, as PyTorch: permute\(0, 3, 1, 2\)\)$/);
    expect(() => new nn.Conv2d(1, 4, 5).forward(zeros([64, 784]))).toThrow(/^fathom\.Conv2d: expected a float32 input \[N, 1, H, W\], got float32 \[64, 784\] \(a flat \[N, features\] batch: reshape\(\[64, 1, 28, 28\]\) first\)$/);
    expect(() => new nn.Conv2d(3, 4, 5).forward(zeros([2, 10]))).toThrow(/got float32 \[2, 10\] \(a flat \[N, features\] batch: reshape\(\[N, C, H, W\]\) first\)$/);
    // No hint when the shape is simply wrong.
    expect(() => conv.forward(zeros([2, 5, 8, 8]))).toThrow(/^fathom\.Conv2d: expected a float32 input \[N, 3, H, W\], got float32 \[2, 5, 8, 8\]$/);
    expect(() => new nn.Conv1d(2, 4, 3).forward(zeros([2, 9, 2]))).toThrow(/\(fathom is NCL, as PyTorch: permute\(0, 2, 1\)\)$/);
  });

  it('Sequential (past layer 0) and predict show the batch shape', () => {
    const m = new nn.Sequential(new nn.Flatten(), new nn.Linear(10, 2));
    expect(() => m.forward(zeros([4, 3, 3]))).toThrow(/^fathom\.Sequential: layer 1 \(Linear\): fathom\.Linear: expected input \[\*, 10\].*got \[4, 9\] \(the Sequential's input was \[4, 3, 3\]\)$/);
    expect(() => m.predict(zeros([600, 3, 3]))).toThrow(/got \[256, 9\] \(the Sequential's input was \[256, 3, 3\]\) \(in predict, on a batch \[256, 3, 3\]\)$/);
    const cnn = new nn.Sequential(new nn.Conv2d(1, 2, 3), new nn.ReLU());
    expect(() => cnn.forward(zeros([2, 5, 5, 1]))).toThrow(/^fathom\.Sequential: layer 0 \(Conv2d\): fathom\.Conv2d: .*got float32 \[2, 5, 5, 1\] \(fathom is NCHW, as PyTorch: permute\(0, 3, 1, 2\)\)$/);
  });
});

describe('RNN/LSTM/GRU: dropout > 0 with numLayers 1 warns, as PyTorch', () => {
  it('one warning per layer constructed, none for numLayers > 1 or dropout 0', () => {
    const spy = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    try {
      const l = new nn.LSTM(3, 4, { dropout: 0.5 });
      expect(spy).toHaveBeenCalledTimes(1);
      const [msg, opts] = spy.mock.calls[0] as unknown as [string, { code: string }];
      expect(msg).toBe('fathom.LSTM: dropout option adds dropout after all but the last recurrent layer, so non-zero dropout expects numLayers greater than 1, but got dropout=0.5 and numLayers=1');
      expect(opts.code).toBe('FATHOM_RNN_DROPOUT');
      l.train();
      l.forward(zeros([2, 1, 3])); // forward does not warn again
      new nn.GRU(3, 4, { dropout: 0.2 });
      new nn.RNN(3, 4, { dropout: 0.1 });
      expect(spy.mock.calls.map((c) => String(c[0]).split(':')[0])).toEqual(['fathom.LSTM', 'fathom.GRU', 'fathom.RNN']);
      new nn.LSTM(3, 4, { dropout: 0.5, numLayers: 2 });
      new nn.GRU(3, 4);
      new nn.RNN(3, 4, { dropout: 0 });
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
  });
});
