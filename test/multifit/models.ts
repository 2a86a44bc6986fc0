// Small hand-written multi-input / multi-output modules (the MultiIOModule pattern a user writes
// for a custom model) and data for the multifit tests.
import { Tensor, manualSeed, nn, randn, relu, add, type MultiIOModule } from '../../lib/index.js';

/**
 * Two inputs → two outputs: image [N, 4] and meta [N, 2] meet in a hidden layer [N, 8];
 * 'digit' is a 3-class classifier head (logits [N, 3]), 'size' a regression head [N, 1].
 */
export class TwoHeads extends nn.Module implements MultiIOModule {
  readonly inputNames = ['image', 'meta'];
  readonly outputNames = ['digit', 'size'];
  image = new nn.Linear(4, 8);
  meta = new nn.Linear(2, 8);
  cls = new nn.Linear(8, 3);
  reg = new nn.Linear(8, 1);
  override forward(): Tensor {
    throw new Error('TwoHeads takes two inputs: call forwardAll([image, meta])');
  }
  forwardAll([image, meta]: Tensor[]): Tensor[] {
    const h = relu(add(this.image.forward(image), this.meta.forward(meta)));
    return [this.cls.forward(h), this.reg.forward(h)];
  }
}

export function twoHeads(seed: number): TwoHeads {
  manualSeed(seed);
  return new TwoHeads();
}

/**
 * n rows: image, meta ~ N(0, 1); digit = the argmax of image's first three
 * columns (int32), size = sum(meta) + image[3] (a learnable function of both inputs).
 */
export function twoHeadsData(n: number, seed: number): { image: Tensor; meta: Tensor; digit: Tensor; size: Tensor } {
  manualSeed(seed);
  const image = randn([n, 4]);
  const meta = randn([n, 2]);
  const digit = new Int32Array(n);
  const size = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = image.data.subarray(i * 4, i * 4 + 4);
    digit[i] = r[0] >= r[1] && r[0] >= r[2] ? 0 : r[1] >= r[2] ? 1 : 2;
    size[i] = meta.data[i * 2] + meta.data[i * 2 + 1] + r[3];
  }
  return { image, meta, digit: new Tensor(digit, [n]), size: new Tensor(size, [n, 1]) };
}

/** One input, one output through forwardAll: a MultiIOModule with a single name each. */
export class OneInOneOut extends nn.Module implements MultiIOModule {
  readonly inputNames = ['features'];
  readonly outputNames = ['score'];
  fc = new nn.Linear(3, 2);
  override forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
  forwardAll([x]: Tensor[]): Tensor[] {
    return [this.fc.forward(x)];
  }
}
