// Siblings of issue 8's faults found by the final review (a QA pass over the merged work),
// each on both backends.
import { describe, expect, it } from 'vitest';
import { full, logSoftmax, nn, ones, setBackend, softmax, tensor, Tensor, zeros } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';

const backends = nativeBinding() ? (['ts', 'native'] as const) : (['ts'] as const);
const detached = (t: Tensor): Tensor => {
  structuredClone(t.data.buffer, { transfer: [t.data.buffer as ArrayBuffer] });
  return t;
};

for (const b of backends) {
  describe(`review fixes (${b} backend)`, () => {
    const use = () => setBackend(b);

    it('predict on empty rows beside a huge batch returns at once; fit/evaluate refuse samples without values', async () => {
      use();
      const m = new nn.Sequential(new nn.ReLU());
      expect(m.predict(zeros([2 ** 31, 0])).shape).toEqual([2 ** 31, 0]);
      await expect(m.evaluate(zeros([2 ** 40, 0]), zeros([2 ** 40, 0]), { loss: 'mse' }))
        .rejects.toThrow(/^fathom.evaluate: the samples hold no values \(x \[1099511627776, 0\], y \[1099511627776, 0\]\)/);
      const lin = new nn.Sequential(new nn.Linear(2, 1));
      await expect(lin.fit(zeros([2 ** 40, 0]), zeros([2 ** 40, 0]), { loss: 'mse' })).rejects.toThrow(/^fathom.fit: the samples hold no values/);
    });

    it('toArray refuses to build billions of nested arrays', () => {
      use();
      expect(() => zeros([2 ** 31, 0]).toArray()).toThrow(/^fathom.toArray: a tensor of shape \[2147483648, 0\] would need 2147483649 nested JS arrays/);
      expect(zeros([3, 0]).toArray()).toEqual([[], [], []]);
    });

    it('softmax / logSoftmax / nn.Softmax refuse an axis other than the last instead of ignoring it', () => {
      use();
      const x = tensor([[1, 2], [3, 5]]);
      expect(() => softmax(x, 0)).toThrow(/^fathom.softmax: only the last axis is supported \(axis -1 or 1\), got axis 0 of shape \[2, 2\]/);
      expect(() => logSoftmax(x, 'foo' as never)).toThrow(/^fathom.logSoftmax: axis must be an integer, got "foo"/);
      expect(() => new nn.Softmax(0)).toThrow(/^fathom.Softmax: only the last axis \(-1\) is supported/);
      expect([...softmax(x, -1).data]).toEqual([...softmax(x).data]);
      expect([...x.softmax(1).data]).toEqual([...softmax(x).data]);
      expect(new nn.LogSoftmax(-1).forward(x).shape).toEqual([2, 2]);
    });

    it('loadStateDict checks every entry before copying any', () => {
      use();
      const m = new nn.Sequential(new nn.Linear(2, 2), new nn.Linear(2, 1));
      const before = m.namedParameters().map(([, t]) => [...t.data]);
      const bad: Record<string, Tensor> = {};
      for (const [k, t] of Object.entries(m.stateDict())) bad[k] = full(t.shape, 7);
      bad['1.weight'] = zeros([3, 3]);
      expect(() => m.loadStateDict(bad)).toThrow(/parameter '1.weight' has shape \[1, 2\], the state dict has \[3, 3\]/);
      expect(m.namedParameters().map(([, t]) => [...t.data])).toEqual(before);
      bad['1.weight'] = detached(full([1, 2], 7));
      expect(() => m.loadStateDict(bad)).toThrow(/^fathom.loadStateDict: '1.weight' has lost its storage/);
      expect(m.namedParameters().map(([, t]) => [...t.data])).toEqual(before);
    });

    it('fit / evaluate / predict name a transferred x or y', async () => {
      use();
      const m = new nn.Sequential(new nn.Linear(2, 1));
      await expect(m.fit(detached(ones([4, 2])), ones([4, 1]), { loss: 'mse' })).rejects.toThrow(/^fathom.fit: x has lost its storage/);
      await expect(m.evaluate(ones([4, 2]), detached(ones([4, 1])), { loss: 'mse' })).rejects.toThrow(/^fathom.evaluate: y has lost its storage/);
      expect(() => m.predict(detached(ones([4, 2])))).toThrow(/^fathom.predict: x has lost its storage/);
    });
  });
}
