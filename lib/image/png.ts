/**
 * PNG files of grey images through `pngjs` (an optional peer dependency, as
 * `@resvg/resvg-js` is for the plots: `npm install pngjs`). Written as
 * 8-bit greyscale (PNG colour type 0), atomically.
 */
import type { GrayImage } from './grid.js';

type PngJs = typeof import('pngjs');

const PACKAGES = ['pngjs'] as const;

/**
 * Loads pngjs, or throws the install hint
 * (`fathom.<op>: writing PNG files needs the optional package \`pngjs\`, which is not installed: npm install pngjs`).
 */
export async function loadPngjs(op = 'writePng'): Promise<PngJs> {
  const { importOptional } = await import('../data/optional.js');
  const mod = await importOptional<PngJs & { default?: PngJs }>(op, 'pngjs', 'writing PNG files', PACKAGES);
  return mod.PNG !== undefined ? mod : mod.default!;
}

/** Checks that pngjs can be loaded (before long work whose result is a PNG); throws the install hint. */
export async function checkPngjs(op = 'writePng'): Promise<void> {
  const { resolveOptional } = await import('../data/optional.js');
  resolveOptional(op, 'pngjs', 'writing PNG files', PACKAGES);
}

/** The PNG file's bytes of a grey image. */
export async function encodePng(img: GrayImage): Promise<Uint8Array> {
  const ok = img !== null && typeof img === 'object' && Number.isInteger(img.width) && Number.isInteger(img.height) &&
    img.width > 0 && img.height > 0 && img.data instanceof Uint8Array && img.data.length === img.width * img.height;
  if (!ok) {
    throw new Error(`fathom.encodePng: img must be { width, height, data: Uint8Array of width·height grey levels } with positive integer sides, got ${img === null ? 'null' : typeof img === 'object' ? `width ${img.width}, height ${img.height}, data of ${(img.data as { length?: number } | undefined)?.length ?? 'no'} bytes` : typeof img}`);
  }
  const { PNG } = await loadPngjs('encodePng');
  const png = new PNG({ width: img.width, height: img.height, colorType: 0, inputColorType: 0, bitDepth: 8 });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth: 8 });
}

/** Writes a grey image to `path` as a PNG file (atomically: a temporary file renamed into place). */
export async function writePng(path: string, img: GrayImage): Promise<void> {
  const bytes = await encodePng(img);
  const { writeFileAtomic } = await import('../io/atomic.js');
  await writeFileAtomic(path, bytes);
}
