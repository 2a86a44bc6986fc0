/**
 * Sample grids: a batch of one-channel images laid out as one picture, as
 * torchvision's `make_grid` does (`nrow`, `padding`, `pad_value`, and
 * `normalize` with a fixed `value_range`), as 8-bit grey levels ready for a
 * PNG encoder (lib/image/png.ts).
 *
 *   images [N, H, W] or [N, 1, H, W] → grid (rows·H + (rows + 1)·gutter) × (cols·W + (cols + 1)·gutter),
 *   rows = ceil(N / cols); cells after the N-th stay the gutter's grey.
 *
 * A pixel v becomes round(255 · (v − lo) / (hi − lo)) clamped to 0..255, so the
 * default range [−1, 1] (a tanh generator's) maps −1 → 0 (black), 0 → 128, 1 → 255.
 * NaN becomes 0.
 */
import type { Tensor } from '../tensor/tensor.js';

/** An 8-bit grey-level image, row-major, `data.length === width · height`. */
export interface GrayImage {
  width: number;
  height: number;
  data: Uint8Array;
}

export interface ImageGridOptions {
  /** Images per row (torchvision's nrow); default ceil(sqrt(N)), so 64 images make 8 × 8. */
  cols?: number;
  /** Pixels between the images and around them (torchvision's padding); default 2. */
  gutter?: number;
  /** The values that map to black and white, [lo, hi] with lo < hi; default [−1, 1]. */
  range?: readonly [number, number];
  /** Grey level 0..255 of the gutters and empty cells; default 128 (mid grey: apart from both ink and paper). */
  gutterValue?: number;
}

const fail = (msg: string): never => {
  throw new Error(`fathom.imageGrid: ${msg}`);
};

const isInt = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Lays out `images` ([N, H, W] or [N, 1, H, W], float32) as one grey image.
 * @throws Error naming the argument when the shape, dtype or an option is wrong.
 */
export function imageGrid(images: Tensor, options: ImageGridOptions = {}): GrayImage {
  if (images === null || typeof images !== 'object' || !Array.isArray((images as { shape?: unknown }).shape)) {
    fail(`images must be a Tensor [N, H, W] or [N, 1, H, W], got ${images === null ? 'null' : typeof images}`);
  }
  const shape = images.shape;
  if (!(shape.length === 3 || (shape.length === 4 && shape[1] === 1))) {
    fail(`images must have shape [N, H, W] or [N, 1, H, W] (one channel), got [${shape.join(', ')}]`);
  }
  if (images.dtype !== 'float32') fail(`images must be float32, got ${images.dtype}`);
  const [n] = shape;
  const h = shape[shape.length - 2];
  const w = shape[shape.length - 1];
  if (n < 1 || h < 1 || w < 1) fail(`images must hold at least one image of at least 1x1 pixels, got [${shape.join(', ')}]`);
  if (options === null || typeof options !== 'object') fail(`options must be an object, got ${options === null ? 'null' : typeof options}`);
  for (const k of Object.keys(options)) {
    if (!['cols', 'gutter', 'range', 'gutterValue'].includes(k)) fail(`unknown option '${k}' (the options are cols, gutter, range, gutterValue)`);
  }
  const cols = options.cols ?? Math.ceil(Math.sqrt(n));
  if (!isInt(cols, 1, 65536)) fail(`cols must be an integer from 1 to 65536, got ${String(options.cols)}`);
  const gutter = options.gutter ?? 2;
  if (!isInt(gutter, 0, 1024)) fail(`gutter must be an integer from 0 to 1024, got ${String(options.gutter)}`);
  const gutterValue = options.gutterValue ?? 128;
  if (!isInt(gutterValue, 0, 255)) fail(`gutterValue must be an integer from 0 to 255, got ${String(options.gutterValue)}`);
  const range = options.range ?? [-1, 1];
  if (!Array.isArray(range) || range.length !== 2 || !Number.isFinite(range[0]) || !Number.isFinite(range[1]) || !(range[0] < range[1])) {
    fail(`range must be [lo, hi], finite numbers with lo < hi, got ${JSON.stringify(range)}`);
  }
  const [lo, hi] = range;
  const rows = Math.ceil(n / cols);
  const width = cols * w + (cols + 1) * gutter;
  const height = rows * h + (rows + 1) * gutter;
  if (width * height > 2 ** 28) fail(`the grid would be ${width}x${height} pixels, more than 2^28`);
  const out = new Uint8Array(width * height).fill(gutterValue);
  const src = images.data as Float32Array;
  const scale = 255 / (hi - lo);
  for (let k = 0; k < n; k++) {
    const top = gutter + Math.floor(k / cols) * (h + gutter);
    const left = gutter + (k % cols) * (w + gutter);
    for (let y = 0; y < h; y++) {
      const row = (top + y) * width + left;
      const from = (k * h + y) * w;
      for (let x = 0; x < w; x++) {
        const v = Math.round((src[from + x] - lo) * scale);
        out[row + x] = v >= 255 ? 255 : v > 0 ? v : 0; // NaN → 0
      }
    }
  }
  return { width, height, data: out };
}
