/**
 * Sequential fuses Conv2d/Conv1d + a following ReLU/Sigmoid/Tanh into the
 * convolution's bias + activation epilogue, as it does for Linear: the output
 * and every gradient equal the layers run one by one, and the graph holds one
 * conv2d node with the activation instead of a conv2d and an activation node.
 */
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, randn, type Tensor } from '../../lib/index.js';

function close(label: string, got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length, label).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Math.abs(got[i] - want[i]) > 1e-5 * (1 + Math.abs(want[i]))) {
      throw new Error(`${label}[${i}] = ${got[i]}, want ${want[i]}`);
    }
  }
}

const sum = (t: Tensor): Tensor => t.mul(t).sum();

describe('Sequential conv + activation fusion', () => {
  for (const [name, Act] of [['relu', nn.ReLU], ['sigmoid', nn.Sigmoid], ['tanh', nn.Tanh]] as const) {
    it(`Conv2d + ${name}: one fused node, same output and gradients as the layers one by one`, () => {
      manualSeed(3);
      const conv = new nn.Conv2d(3, 5, 3, { padding: 1, stride: [1, 2] });
      const act = new Act();
      const seq = new nn.Sequential(conv, act);
      const x = randn([3, 3, 7, 6]);
      x.requiresGrad = true;
      const y = seq.forward(x);
      expect(y.node?.op).toBe('conv2d');
      expect(y.node?.saved.activation).toBe(name);
      sum(y).backward();
      const [gx, gw, gb] = [x.grad!.data.slice(), conv.weight.grad!.data.slice(), conv.bias!.grad!.data.slice()];
      x.grad = null; conv.weight.grad = null; conv.bias!.grad = null;
      const y2 = act.forward(conv.forward(x));
      expect(y2.node?.op).not.toBe('conv2d');
      close('y', y.data, y2.data);
      sum(y2).backward();
      close('dx', gx, x.grad!.data);
      close('dweight', gw, conv.weight.grad!.data);
      close('dbias', gb, conv.bias!.grad!.data);
    });
  }

  it('Conv1d + ReLU fuses; a Conv2d followed by a non-fusable layer or last in the list does not', () => {
    manualSeed(4);
    const c1 = new nn.Conv1d(2, 4, 3);
    const y1 = new nn.Sequential(c1, new nn.ReLU()).forward(randn([2, 2, 9]));
    expect(y1.node?.op).toBe('conv2d');
    expect(y1.node?.saved.activation).toBe('relu');
    expect(Math.min(...y1.data)).toBeGreaterThanOrEqual(0);
    const c2 = new nn.Conv2d(2, 3, 3);
    const y2 = new nn.Sequential(c2).forward(randn([1, 2, 5, 5]));
    expect(y2.node?.saved.activation).toBe('none');
    const y3 = new nn.Sequential(new nn.Conv2d(2, 3, 3), new nn.MaxPool2d(2)).forward(randn([1, 2, 6, 6]));
    expect(y3.node?.op).not.toBe('conv2d');
  });

  it('an error in the fused layer still names the layer and the Sequential index', () => {
    expect(() => new nn.Sequential(new nn.Conv2d(3, 4, 3), new nn.ReLU()).forward(randn([1, 2, 5, 5])))
      .toThrow(/fathom\.Sequential: layer 0 \(Conv2d\): fathom\.Conv2d: expected a float32 input \[N, 3, H, W\], got float32 \[1, 2, 5, 5\]/);
  });
});
