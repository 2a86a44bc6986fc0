/**
 * Creating tensors from bad and unusual input (issue #8, section 2 and 7):
 * every bad input refused by an Error naming the op and the argument, valid
 * input accepted, no silent NaN, wrap or truncation; printing; detached
 * storage. Every case runs on both backends.
 */
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  Tensor, full, matmul, ones, optim, rand, randn, relu, setBackend, sum, tensor, zeros, add, softmax,
  type NestedArray, type NormalOptions, type TensorOptions, type UniformOptions,
} from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
/** Passes a value of the wrong type where TypeScript would refuse it (what a JS caller can do). */
const bad = <T>(v: unknown): T => v as T;

/** Transfers t's buffer away (as postMessage would), leaving t's typed array detached. */
function transferAway(t: Tensor): void {
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
}

describe.each(backends)('tensor creation on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  const use = (): void => setBackend(name);

  it('refuses a string, booleans, holes and other non-numbers instead of making NaN', () => {
    use();
    expect(() => tensor(bad('hello'), [5])).toThrow(/fathom.tensor: data must be a number, nested arrays of numbers, a typed array or an array-like of numbers, got "hello"/);
    expect(() => tensor(bad([1, 'x', 3]))).toThrow(/fathom.tensor: values must be numbers, got "x" at data\[1\]/);
    expect(() => tensor(bad([[1, 2], [true, 4]]))).toThrow(/values must be numbers, got true at data\[1\]\[0\]/);
    // eslint-disable-next-line no-sparse-arrays
    expect(() => tensor(bad([1, , 3]))).toThrow(/values must be numbers, got undefined at data\[1\]/);
    expect(() => tensor(bad(null))).toThrow(/fathom.tensor: data must be .* got null/);
    expect(() => tensor(bad(undefined))).toThrow(/fathom.tensor: data must be .* got undefined/);
    expect(() => tensor(bad(new BigInt64Array(2)))).toThrow(/values must be numbers, got 0n at data\[0\]/);
    expect(() => tensor(bad({ length: 1e20 }))).toThrow(/fathom.tensor: an array-like's length must be an integer in \[0, 2147483647\], got 100000000000000000000/);
    expect(() => tensor(bad({ length: 2, 0: 1, 1: 'a' }))).toThrow(/values must be numbers, got "a" at index 1/);
  });

  it('refuses ragged nested arrays (never flattens them)', () => {
    use();
    expect(() => tensor(bad([[1, 2], 3]))).toThrow(/fathom.tensor: ragged nested array: data\[1\] is 3, expected an array of length 2/);
    expect(() => tensor(bad([1, [2, 3]]))).toThrow(/ragged nested array: data\[1\] is an array, but its siblings are numbers/);
    expect(() => tensor([[1, 2], [3]])).toThrow(/ragged nested array: data\[1\] has 1 elements, expected 2/);
    expect(() => tensor([[[1], [2]], [[3], [4, 5]]])).toThrow(/data\[1\]\[1\] has 2 elements, expected 1/);
    expect(() => tensor([[], [1]])).toThrow(/data\[1\] has 1 elements, expected 0/);
    let deep: NestedArray = 1;
    for (let i = 0; i < 9; i++) deep = [deep];
    expect(() => tensor(deep)).toThrow(/fathom.tensor: nested data has more than 8 dimensions/);
    // regular nesting, empty rows and typed-array rows are fine
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([new Float64Array([1, 2]), new Float64Array([3, 4])]).toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('refuses int32 values that would wrap or be truncated, accepts the whole int32 range', () => {
    use();
    const i32: TensorOptions = { dtype: 'int32' };
    expect(() => tensor([1e10], undefined, i32)).toThrow(/fathom.tensor: value 10000000000 at data\[0\] cannot be converted to int32 without overflow/);
    expect(() => tensor([2 ** 31], undefined, i32)).toThrow(/cannot be converted to int32 without overflow/);
    expect(() => tensor([-(2 ** 31) - 1], undefined, i32)).toThrow(/cannot be converted to int32 without overflow/);
    expect(() => tensor([[1, 2.5]], undefined, i32)).toThrow(/fathom.tensor: int32 needs integers, got 2.5 at data\[0\]\[1\]/);
    expect(() => tensor([NaN], undefined, i32)).toThrow(/int32 needs integers, got NaN/);
    expect(() => tensor(new Float32Array([1, 0.5]), undefined, i32)).toThrow(/int32 needs integers, got 0.5 at index 1/);
    expect(() => tensor(new Float64Array([3e9]), undefined, i32)).toThrow(/3000000000 at data\[0\] cannot be converted to int32/);
    const ok = tensor([-(2 ** 31), 2 ** 31 - 1, 0], undefined, i32);
    expect(ok.dtype).toBe('int32');
    expect(ok.toArray()).toEqual([-(2 ** 31), 2 ** 31 - 1, 0]);
    expect(tensor(new Float32Array([4, -2]), undefined, i32).toArray()).toEqual([4, -2]);
  });

  it('refuses an unknown dtype, unknown options and options of the wrong type', () => {
    use();
    expect(() => tensor([1], undefined, { dtype: bad('float64') })).toThrow(/fathom.tensor: dtype must be 'float32' or 'int32', got "float64"/);
    expect(() => zeros([2], { dtype: bad('int64') })).toThrow(/fathom.zeros: dtype must be 'float32' or 'int32', got "int64"/);
    expect(() => tensor([1], undefined, { requiresGrad: bad('yes') })).toThrow(/fathom.tensor: requiresGrad must be a boolean, got "yes"/);
    expect(() => ones([2], { requiresGrad: bad(1) })).toThrow(/fathom.ones: requiresGrad must be a boolean, got 1/);
    expect(() => tensor([1], undefined, bad({ dtyp: 'int32' }))).toThrow(/fathom.tensor: unknown option 'dtyp' in options \(known: dtype, requiresGrad\)/);
    expect(() => full([2], bad('1'))).toThrow(/fathom.full: value must be a number, got "1"/);
    expect(() => rand([2], { low: bad('0') })).toThrow(/fathom.rand: low must be a finite number within float32 range .* got "0"/);
    expect(() => rand([2], { seed: bad('7') })).toThrow(/fathom.rand: seed must be a non-negative integer below 2\^64, got "7"/);
    expect(() => randn([2], { std: bad('1') })).toThrow(/fathom.randn: std must be a finite number .* got "1"/);
    expect(() => randn([2], bad({ stdev: 1 }))).toThrow(/fathom.randn: unknown option 'stdev'/);
    expect(() => rand([2], { requiresGrad: bad('no') })).toThrow(/fathom.rand: requiresGrad must be a boolean/);
    expect(() => rand([2], { dtype: 'int32' })).toThrow(/fathom.rand: makes float32 tensors, got dtype 'int32'/);
    expect(() => rand([2], { offset: 3 })).toThrow(/fathom.rand: offset needs a seed/);
    expect(() => matmul(zeros([2, 2]), zeros([2, 2]), { transA: bad('no') })).toThrow(/fathom.matmul: transA must be a boolean, got "no"/);
    expect(() => matmul(zeros([2, 2]), zeros([2, 2]), bad({ transpose: true }))).toThrow(/fathom.matmul: unknown option 'transpose'/);
    expect(() => zeros(bad('3'))).toThrow(/fathom.zeros: shape must be an array of non-negative integers, got "3"/);
    expect(() => zeros([2, bad('3')])).toThrow(/fathom.zeros: shape must hold non-negative integers, got "3" at index 1/);
    expect(() => zeros([1.5])).toThrow(/got 1.5 at index 0/);
    expect(() => tensor([1], [1, 1, 1, 1, 1, 1, 1, 1, 1])).toThrow(/at most 8 dimensions/);
    expect(() => tensor([1], undefined, { dtype: 'int32', requiresGrad: true })).toThrow(/only float32 tensors can require gradients/);
  });

  it('refuses null where an options object belongs, with a clear message', () => {
    use();
    const p = [tensor([1]).requireGrad()];
    expect(() => tensor([1], undefined, bad(null))).toThrow(/^fathom.tensor: options must be an object, got null$/);
    expect(() => full([1], 0, bad(null))).toThrow(/fathom.full: options must be an object, got null/);
    expect(() => zeros([1], bad(null))).toThrow(/fathom.zeros: options must be an object, got null/);
    expect(() => ones([1], bad(null))).toThrow(/fathom.ones: options must be an object, got null/);
    expect(() => rand([1], bad(null))).toThrow(/fathom.rand: options must be an object, got null/);
    expect(() => randn([1], bad(null))).toThrow(/fathom.randn: options must be an object, got null/);
    expect(() => matmul(zeros([1, 1]), zeros([1, 1]), bad(null))).toThrow(/fathom.matmul: options must be an object, got null/);
    expect(() => new optim.SGD(p, bad(null))).toThrow(/fathom.SGD: config must be an object, got null/);
    expect(() => new optim.Adam(p, bad(null))).toThrow(/fathom.Adam: config must be an object, got null/);
    expect(() => new optim.AdamW(p, bad([0.1]))).toThrow(/fathom.AdamW: config must be an object, got an Array\(1\)/);
  });

  it('full: refuses NaN or fractions into int32 and float32 overflow; keeps NaN and Infinity in float32', () => {
    use();
    expect(() => full([2], NaN, { dtype: 'int32' })).toThrow(/fathom.full: int32 needs integers, got NaN/);
    expect(() => full([2], 1.5, { dtype: 'int32' })).toThrow(/int32 needs integers, got 1.5/);
    expect(() => full([2], 1e10, { dtype: 'int32' })).toThrow(/cannot be converted to int32 without overflow/);
    expect(() => full([2], 1e300)).toThrow(/fathom.full: value 1e\+300 cannot be converted to float32 without overflow/);
    expect(full([2], -7, { dtype: 'int32' }).toArray()).toEqual([-7, -7]);
    expect(full([2], NaN).toArray()).toEqual([NaN, NaN]);
    expect(full([1], -Infinity).item()).toBe(-Infinity);
  });

  it('rand/randn: refuse bounds that would give NaN or ±Infinity, accept the extremes that do not', () => {
    use();
    expect(() => rand([3], { low: -1e300, high: 1e300, seed: 1 })).toThrow(/fathom.rand: low must be a finite number within float32 range \(\|low\| <= 3.4e38\), got -1e\+300/);
    expect(() => rand([3], { high: Infinity })).toThrow(/fathom.rand: high must be a finite number/);
    expect(() => rand([3], { low: NaN })).toThrow(/fathom.rand: low must be a finite number .* got NaN/);
    expect(() => rand([3], { low: 2, high: 1 })).toThrow(/fathom.rand: low must be <= high, got low 2 and high 1/);
    expect(() => randn([3], { std: 1e300, seed: 1 })).toThrow(/fathom.randn: std must be a finite number within float32 range/);
    expect(() => randn([3], { mean: -1e300 })).toThrow(/fathom.randn: mean must be a finite number/);
    expect(() => randn([3], { std: -1 })).toThrow(/fathom.randn: std must be >= 0, got -1/);
    expect(() => randn([3], { std: 1e38 })).toThrow(/could draw values beyond float32's range/);
    const wide: UniformOptions = { low: -3.4e38, high: 3.4e38, seed: 3 };
    for (const v of rand([1000], wide).data) expect(Number.isFinite(v)).toBe(true);
    const normal: NormalOptions = { mean: 1e37, std: 5e37, seed: 4 };
    for (const v of randn([1000], normal).data) expect(Number.isFinite(v)).toBe(true);
    expect([...rand([4], { low: 2, high: 2, seed: 1 }).data]).toEqual([2, 2, 2, 2]);
  });

  it('accepts large typed arrays (no call-stack overflow) and typed arrays without a shape as 1-D', () => {
    use();
    const big = new Float64Array(200000).map((_, i) => i / 4);
    const t = tensor(big, [200000]);
    expect(t.shape).toEqual([200000]);
    expect(t.data[199999]).toBe(199999 / 4);
    expect(tensor(new Float64Array(300000)).shape).toEqual([300000]);
    expect(tensor(Array.from({ length: 300000 }, (_, i) => i)).shape).toEqual([300000]);
    const u8 = tensor(new Uint8Array([1, 255]));
    expect(u8.shape).toEqual([2]);
    expect(u8.dtype).toBe('float32');
    expect(u8.toArray()).toEqual([1, 255]);
    expect(tensor(new Uint8Array([3, 4]), undefined, { dtype: 'int32' }).dtype).toBe('int32');
    expect(tensor(new Int16Array([-3, 4]), [2, 1]).toArray()).toEqual([[-3], [4]]);
    const i32 = tensor(new Int32Array([5, 6]));
    expect(i32.dtype).toBe('int32');
    expect(tensor({ length: 2, 0: 1, 1: 2 }).toArray()).toEqual([1, 2]);
  });

  it('the Tensor constructor refuses storage of other types and mismatched shapes', () => {
    use();
    expect(() => new Tensor(bad(new Float64Array(2)), [2])).toThrow(/fathom.Tensor: data must be a Float32Array or an Int32Array, got a Float64Array/);
    expect(() => new Tensor(bad([1, 2]), [2])).toThrow(/got an Array\(2\)/);
    expect(() => new Tensor(new Float32Array(2), bad('2'))).toThrow(/fathom.Tensor: shape must be an array/);
  });

  it('requiresGrad and grad are checked on assignment', () => {
    use();
    const t = tensor([1, 2]);
    expect(() => { t.requiresGrad = bad('yes'); }).toThrow(/fathom.requiresGrad: expected a boolean, got "yes"/);
    expect(() => tensor(new Int32Array([1])).requireGrad()).toThrow(/fathom.requiresGrad: only float32 tensors can require gradients, got int32/);
    expect(() => { t.grad = tensor([1, 2, 3]); }).toThrow(/fathom.grad: the gradient's shape \[3\] differs from the tensor's shape \[2\]/);
    expect(() => { t.grad = bad([1, 2]); }).toThrow(/fathom.grad: a gradient must be a Tensor or null, got an Array\(2\)/);
    expect(() => { t.grad = tensor(new Int32Array([1, 2])); }).toThrow(/a gradient must be float32, got int32/);
    t.grad = tensor([3, 4]);
    expect(t.grad.toArray()).toEqual([3, 4]);
  });

  it('a tensor whose buffer was transferred is refused by every reader, naming the op and argument', () => {
    use();
    const x = tensor([1, 2, 3]);
    transferAway(x);
    expect(x.data.length).toBe(0);
    expect(() => relu(x)).toThrow(/fathom.relu: x has lost its storage: the tensor of shape \[3\] needs 3 values but its Float32Array now holds 0/);
    expect(() => add(tensor([1, 1, 1]), x)).toThrow(/fathom.add: b has lost its storage/);
    expect(() => x.add(1)).toThrow(/fathom.add: a has lost its storage/);
    expect(() => sum(x)).toThrow(/fathom.sum: x has lost its storage/);
    expect(() => softmax(x)).toThrow(/fathom.softmax: x has lost its storage/);
    expect(() => x.reshape([1, 3])).toThrow(/fathom.reshape: x has lost its storage/);
    const w = zeros([3, 1]);
    transferAway(w);
    expect(() => matmul(zeros([1, 3]), w)).toThrow(/fathom.matmul: b has lost its storage/);
    expect(() => x.item()).toThrow(/fathom.item: expected a tensor with one element/);
    expect(() => x.toArray()).toThrow(/fathom.toArray: the tensor has lost its storage/);
    expect(() => x.clone()).toThrow(/fathom.clone: the tensor has lost its storage/);
    expect(inspect(x)).toBe('tensor(<storage detached>, shape=[3], dtype=float32)');
    const s = tensor([5]);
    transferAway(s);
    expect(() => s.item()).toThrow(/fathom.item: the tensor has lost its storage/);
  });
});

describe('printing and reading tensors', () => {
  it('console.log / util.inspect shows values, shape and dtype like PyTorch', () => {
    expect(inspect(tensor([[1, 2], [3, 4]]))).toBe('tensor([[1, 2],\n        [3, 4]], shape=[2, 2], dtype=float32)');
    expect(inspect(tensor([1.5, -2.25]))).toBe('tensor([ 1.5000, -2.2500], shape=[2], dtype=float32)');
    expect(inspect(tensor(7))).toBe('tensor(7, shape=[], dtype=float32)');
    expect(inspect(zeros([0, 3]))).toBe('tensor([], shape=[0, 3], dtype=float32)');
    expect(inspect(tensor(new Int32Array([3, 10])))).toBe('tensor([ 3, 10], shape=[2], dtype=int32)');
    expect(inspect(tensor([1, NaN, -Infinity]).requireGrad())).toBe('tensor([   1,  nan, -inf], shape=[3], dtype=float32, requiresGrad=true)');
    expect(inspect(tensor([1e-6, 1]))).toBe('tensor([1.0000e-6, 1.0000e+0], shape=[2], dtype=float32)');
    expect(inspect(tensor([[[1, 2]], [[3, 4]]]))).toBe('tensor([[[1, 2]],\n\n        [[3, 4]]], shape=[2, 1, 2], dtype=float32)');
    // more than 1000 values: the first and last 3 of each dimension around '...'
    const big = tensor(Float32Array.from({ length: 2000 }, (_, i) => i), [40, 50]);
    expect(inspect(big)).toBe(
      'tensor([[   0,    1,    2, ...,   47,   48,   49],\n' +
        '        [  50,   51,   52, ...,   97,   98,   99],\n' +
        '        [ 100,  101,  102, ...,  147,  148,  149],\n' +
        '        ...,\n' +
        '        [1850, 1851, 1852, ..., 1897, 1898, 1899],\n' +
        '        [1900, 1901, 1902, ..., 1947, 1948, 1949],\n' +
        '        [1950, 1951, 1952, ..., 1997, 1998, 1999]], shape=[40, 50], dtype=float32)',
    );
    expect(String(tensor([1, 2]))).toBe('Tensor(float32, [2])');
  });

  it('toArray() is typed by the caller without casts', () => {
    const m: number[][] = tensor([[1, 2], [3, 4]]).toArray<number[][]>();
    expect(m[1][0] + 1).toBe(4);
    const v: number[] = tensor([5, 6]).toArray<number[]>();
    expect(v.map((x) => x * 2)).toEqual([10, 12]);
    const s: number = tensor(3).toArray<number>();
    expect(s).toBe(3);
    const any: NestedArray = tensor([1]).toArray();
    expect(any).toEqual([1]);
  });
});

describe('tensor(data, options)', () => {
  it('takes the options in the shape\'s place, as torch.tensor(data, dtype=...)', () => {
    const t = tensor([0, 2, 1], { dtype: 'int32' });
    expect(t.dtype).toBe('int32');
    expect(t.shape).toEqual([3]);
    expect(tensor([[1, 2]], { requiresGrad: true }).requiresGrad).toBe(true);
    expect(() => tensor([1], { dtype: 'int32' } as never, { dtype: 'int32' })).toThrow(/fathom.tensor: options were given twice/);
    expect(() => tensor([1], { dtyp: 'int32' } as never)).toThrow(/fathom.tensor: unknown option 'dtyp'/);
  });
});
