/**
 * rnnSequence and the cells against PyTorch 1.13 (fixtures/rnn-torch.py): one-layer
 * torch.nn.LSTM / GRU / RNN with their weights fed in (xProj = x W_ihᵀ + b_ih by matmul),
 * outputs and the gradients of sum(out·gy) + sum(h·gh) (+ sum(c·gc)) on both backends.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import * as fa from '../../lib/index.js';
import { Tensor, setBackend, tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);

type W = Record<'weight_ih' | 'weight_hh' | 'bias_ih' | 'bias_hh', number[]>;
interface Common {
  name: string; mode: fa.RnnMode; I: number; H: number; bias: boolean;
  x: number[]; h0: number[]; c0: number[] | null; weights: W; h: number[]; c: number[] | null;
  gh: number[]; gc: number[] | null; dx: number[]; dh0: number[]; dc0: number[] | null; dweights: W;
}
interface SeqCase extends Common { N: number; T: number; lengths: number[] | null; reverse: boolean; output: number[]; gy: number[] }
interface CellCase extends Common { N: number | null }
const fixture = JSON.parse(readFileSync(new URL('./fixtures/rnn-torch.json', import.meta.url), 'utf8')) as
  { sequences: SeqCase[]; cells: CellCase[] };

function close(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol = 2e-4): void {
  expect(got.length, `${what}: length`).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    const err = Math.abs(got[i] - want[i]);
    if (!(err <= tol * (1 + Math.abs(want[i])))) throw new Error(`${what}[${i}]: got ${got[i]}, want ${want[i]}`);
  }
}

const leaf = (d: number[], shape: number[]): Tensor => tensor(Float32Array.from(d), shape, { requiresGrad: true });

function weights(c: Common): { wIh: Tensor; wHh: Tensor; bIh: Tensor | null; bHh: Tensor | null } {
  const G = fa.rnnGates(c.mode);
  return {
    wIh: leaf(c.weights.weight_ih, [G * c.H, c.I]),
    wHh: leaf(c.weights.weight_hh, [G * c.H, c.H]),
    bIh: c.bias ? leaf(c.weights.bias_ih, [G * c.H]) : null,
    bHh: c.bias ? leaf(c.weights.bias_hh, [G * c.H]) : null,
  };
}

function checkGrads(c: Common, x: Tensor, h0: Tensor, c0: Tensor | null, w: ReturnType<typeof weights>): void {
  close('dx', x.grad!.data, c.dx);
  close('dh0', h0.grad!.data, c.dh0);
  if (c0) close('dc0', c0.grad!.data, c.dc0!);
  close('dW_ih', w.wIh.grad!.data, c.dweights.weight_ih);
  close('dW_hh', w.wHh.grad!.data, c.dweights.weight_hh);
  if (w.bIh) close('db_ih', w.bIh.grad!.data, c.dweights.bias_ih);
  if (w.bHh) close('db_hh', w.bHh.grad!.data, c.dweights.bias_hh);
}

const dot = (a: Tensor, g: number[]): Tensor => fa.sum(fa.mul(a, tensor(Float32Array.from(g), a.shape)));

describe.each(backends)('rnnSequence matches torch.nn.LSTM/GRU/RNN on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  it.each(fixture.sequences.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    setBackend(name);
    const { N, T, I, H } = c;
    const G = fa.rnnGates(c.mode);
    const x = leaf(c.x, [N, T, I]);
    const h0 = leaf(c.h0, [N, H]);
    const c0 = c.c0 ? leaf(c.c0, [N, H]) : null;
    const w = weights(c);
    let proj = fa.matmul(fa.reshape(x, [N * T, I]), w.wIh, { transB: true });
    if (w.bIh) proj = fa.add(proj, w.bIh);
    const r = fa.rnnSequence(c.mode, fa.reshape(proj, [N, T, G * H]), h0, c0, w.wHh, w.bHh, {
      lengths: c.lengths ? Int32Array.from(c.lengths) : null, reverse: c.reverse,
    });
    expect(r.output.shape).toEqual([N, T, H]);
    close('output', r.output.data, c.output);
    close('h', r.h.data, c.h);
    if (c.mode === 'lstm') close('c', r.c!.data, c.c!);
    else expect(r.c).toBeNull();
    let loss = fa.add(dot(r.output, c.gy), dot(r.h, c.gh));
    if (r.c) loss = fa.add(loss, dot(r.c, c.gc!));
    loss.backward();
    checkGrads(c, x, h0, c0, w);
  });
});

describe.each(backends)('lstmCell / gruCell / rnnCell match torch.nn.*Cell on the %s backend', (name) => {
  afterAll(() => setBackend(nativeBinding() ? 'native' : 'ts'));
  it.each(fixture.cells.map((c) => [c.name, c] as const))('%s', (_n, c) => {
    setBackend(name);
    const shp = c.N === null ? [] : [c.N];
    const x = leaf(c.x, [...shp, c.I]);
    const h0 = leaf(c.h0, [...shp, c.H]);
    const c0 = c.c0 ? leaf(c.c0, [...shp, c.H]) : null;
    const w = weights(c);
    let loss: Tensor;
    if (c.mode === 'lstm') {
      const [h, cc] = fa.lstmCell(x, h0, c0!, w.wIh, w.wHh, w.bIh, w.bHh);
      expect(h.shape).toEqual(h0.shape);
      expect(cc.shape).toEqual(h0.shape);
      close('h', h.data, c.h);
      close('c', cc.data, c.c!);
      loss = fa.add(dot(h, c.gh), dot(cc, c.gc!));
    } else {
      const h = c.mode === 'gru' ? fa.gruCell(x, h0, w.wIh, w.wHh, w.bIh, w.bHh)
        : fa.rnnCell(x, h0, w.wIh, w.wHh, w.bIh, w.bHh, c.mode === 'rnnTanh' ? 'tanh' : 'relu');
      expect(h.shape).toEqual(h0.shape);
      close('h', h.data, c.h);
      loss = dot(h, c.gh);
    }
    loss.backward();
    checkGrads(c, x, h0, c0, w);
  });
});
