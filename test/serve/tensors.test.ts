// Tensors across threads: Tensor.from revives what postMessage delivers (a plain object), with checks;
// tensors over a SharedArrayBuffer compute like any other on both backends and cross without a copy.
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isShared, manualSeed, nn, randn, setBackend, shareMemory, Tensor, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['native', 'ts'] as const) : (['ts'] as const);

/** One real postMessage hop (structured clone), in this thread: what a worker's message handler gets. */
function roundTrip<T>(value: unknown, transfer: ArrayBuffer[] = []): Promise<T> {
  const { port1, port2 } = new MessageChannel();
  return new Promise<T>((resolve) => {
    port2.once('message', (m: T) => { port1.close(); port2.close(); resolve(m); });
    port1.postMessage(value, transfer);
  });
}

describe('Tensor.from', () => {
  it('a posted tensor arrives as a plain object; Tensor.from revives it (float32 and int32), values and shape kept', async () => {
    const f = tensor([[1.5, -2], [3, 4.25]]);
    const i = new Tensor(Int32Array.from([7, -1, 2]), [3]);
    const [gf, gi] = await roundTrip<[unknown, unknown]>([f, i]);
    expect(gf instanceof Tensor).toBe(false);
    expect(typeof (gf as { add?: unknown }).add).toBe('undefined');
    const rf = Tensor.from(gf as Tensor);
    const ri = Tensor.from(gi as Tensor);
    expect(rf).toBeInstanceOf(Tensor);
    expect(rf.toArray()).toEqual([[1.5, -2], [3, 4.25]]);
    expect([rf.dtype, ri.dtype]).toEqual(['float32', 'int32']);
    expect(ri.toArray()).toEqual([7, -1, 2]);
    expect(rf.add(1).toArray()).toEqual([[2.5, -1], [4, 5.25]]);
  });

  it('is cut from the tape, as detach(): a parameter arrives without requiresGrad or its gradient', async () => {
    const w = tensor([1, 2]).requireGrad();
    w.mul(w).sum().backward();
    const r = Tensor.from(await roundTrip<Tensor>(w));
    expect(r.requiresGrad).toBe(false);
    expect(r.grad).toBe(null);
    expect(r.node).toBe(null);
    // A real Tensor gives a view: detach().
    const d = Tensor.from(w);
    expect(d.data).toBe(w.data);
    expect(d.requiresGrad).toBe(false);
  });

  it('refuses what is not a tensor, naming what is wrong', async () => {
    const t = tensor([1, 2, 3, 4], [2, 2]);
    const cases: [unknown, RegExp][] = [
      [null, /fathom\.Tensor\.from: expected a Tensor or a structured clone of one/],
      [5, /fathom\.Tensor\.from: expected a Tensor/],
      [{ data: [1, 2], shape: [2] }, /fathom\.Tensor\.from: data must be a Float32Array or an Int32Array, got .*tensor\(\) converts/],
      [{ data: new Float64Array(2), shape: [2] }, /data must be a Float32Array or an Int32Array/],
      [{ data: new Float32Array(2), shape: [2], dtype: 'int32' }, /dtype is "int32" but data is a Float32Array \(float32\)/],
      [{ data: new Float32Array(4), shape: [2, -2] }, /fathom\.Tensor\.from: shape must hold non-negative integers/],
      [{ data: new Float32Array(4), shape: '2x2' }, /fathom\.Tensor\.from: shape must be an array/],
      [{ data: new Float32Array(4), shape: [3] }, /fathom\.Tensor\.from: shape \[3\] needs 3 values, but data holds 4/],
    ];
    for (const [v, re] of cases) expect(() => Tensor.from(v as Tensor)).toThrow(re);
    // A buffer transferred away leaves the sender's tensor empty: refused with the reason.
    const sent = t.clone();
    await roundTrip(sent, [sent.data.buffer as ArrayBuffer]);
    expect(() => Tensor.from({ data: sent.data, shape: [...sent.shape] })).toThrow(/needs 4 values, but data holds 0 \(its buffer was transferred or detached/);
  });
});

describe.each(backends)('tensors in a SharedArrayBuffer (%s)', (name) => {
  beforeAll(() => setBackend(name));
  afterEach(() => manualSeed(0));

  it('compute exactly as ordinary tensors: ops, a layer, a training step', () => {
    manualSeed(5);
    const x = randn([6, 4]);
    const sx = shareMemory(x);
    expect(isShared(sx)).toBe(true);
    expect(isShared(x)).toBe(false);
    expect(sx.data).not.toBe(x.data);
    expect(Array.from(sx.data)).toEqual(Array.from(x.data));
    expect(Array.from(sx.matmul(sx.transpose()).data)).toEqual(Array.from(x.matmul(x.transpose()).data));
    expect(Array.from(sx.softmax().data)).toEqual(Array.from(x.softmax().data));
    manualSeed(6);
    const m = new nn.Sequential(new nn.Linear(4, 5), new nn.ReLU(), new nn.Linear(5, 2));
    expect(Array.from(m.forward(sx).data)).toEqual(Array.from(m.forward(x).data));
    // Parameters in shared memory train too (a native kernel writes into them).
    const p = shareMemory(tensor([0.5, -0.25])).requireGrad();
    p.mul(p).sum().backward();
    expect(Array.from(p.grad!.data)).toEqual([1, -0.5]);
  });

  it('cross a thread without a copy: a worker writes, this thread sees it (and the reverse)', async () => {
    const t = shareMemory(new Tensor(Int32Array.from([1, 2, 3, 4]), [2, 2]));
    expect(shareMemory(t)).toBe(t); // already shared: itself
    const src = `
      const { parentPort } = require('node:worker_threads');
      parentPort.once('message', (m) => {
        const seen = Array.from(m.data);
        m.data[0] = 100;                  // the same memory as the main thread's tensor
        parentPort.postMessage({ seen, shape: m.shape, dtype: m.dtype });
      });`;
    const w = new Worker(src, { eval: true });
    try {
      t.data[3] = 40;
      const reply = new Promise<{ seen: number[]; shape: number[]; dtype: string }>((res, rej) => { w.once('message', res); w.once('error', rej); });
      w.postMessage(t);
      const r = await reply;
      expect(r).toEqual({ seen: [1, 2, 3, 40], shape: [2, 2], dtype: 'int32' });
      expect(t.toArray()).toEqual([[100, 2], [3, 40]]);
    } finally {
      await w.terminate();
    }
    // And Tensor.from of the clone keeps sharing.
    const back = Tensor.from(await roundTrip<Tensor>(t));
    expect(isShared(back)).toBe(true);
    back.data[1] = -7;
    expect(t.data[1]).toBe(-7);
  });

  it('shareMemory refuses a non-tensor and a tensor whose buffer was transferred', async () => {
    expect(() => shareMemory([1, 2] as unknown as Tensor)).toThrow(/fathom\.shareMemory: expected a Tensor, got/);
    const t = tensor([1, 2, 3]);
    await roundTrip(t.data, [t.data.buffer as ArrayBuffer]);
    expect(() => shareMemory(t)).toThrow(/fathom\.shareMemory: the tensor has lost its storage/);
  });
});
