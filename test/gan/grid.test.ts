// Sample grids (lib/image/grid.ts) and their PNG files through pngjs (lib/image/png.ts):
// layout, gutters, the [-1, 1] → 0..255 mapping, and a round trip through pngjs's decoder.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rand, Tensor } from '../../lib/index.js';
import { imageGrid } from '../../lib/image/grid.js';
import { encodePng, writePng } from '../../lib/image/png.js';
import { missingMessage } from '../../lib/data/optional.js';
import { withoutOptionalPackages } from '../helpers/optional.js';

let dir: string;
beforeAll(async () => { dir = await mkdtemp(join(tmpdir(), 'fathom-grid-')); });
afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

/** The grey level the grid should hold for v in [lo, hi] (an independent statement of the rule). */
const level = (v: number, lo = -1, hi = 1): number => Math.min(255, Math.max(0, Math.round(((v - lo) / (hi - lo)) * 255)));

describe('imageGrid', () => {
  it('lays N images out in rows of cols with gutters around and between, tanh range to 0..255', () => {
    const n = 5, h = 3, w = 4;
    const x = rand([n, 1, h, w], { seed: 3, low: -1.2, high: 1.2 }); // beyond [-1, 1] too: clamped
    const g = imageGrid(x, { cols: 3, gutter: 2, gutterValue: 77 });
    expect([g.width, g.height]).toEqual([3 * w + 4 * 2, 2 * h + 3 * 2]);
    const src = x.data as Float32Array;
    let inked = 0;
    for (let py = 0; py < g.height; py++) {
      for (let px = 0; px < g.width; px++) {
        const cx = px - 2, cy = py - 2;
        const col = Math.floor(cx / (w + 2)), row = Math.floor(cy / (h + 2));
        const ix = cx - col * (w + 2), iy = cy - row * (h + 2);
        const k = row * 3 + col;
        const inside = cx >= 0 && cy >= 0 && ix < w && iy < h && col < 3 && k < n;
        const want = inside ? level(src[(k * h + iy) * w + ix]) : 77;
        if (inside) inked++;
        expect(g.data[py * g.width + px], `pixel (${px}, ${py})`).toBe(want);
      }
    }
    expect(inked).toBe(n * h * w); // the sixth cell is empty (gutter grey)
  });

  it('defaults: ceil(sqrt(N)) columns, 2-pixel gutters; [N, H, W] works too; -1 → 0, 0 → 128, 1 → 255, NaN → 0', () => {
    const x = new Tensor(Float32Array.from([-1, 0, 1, NaN]), [4, 1, 1]);
    const g = imageGrid(x);
    expect([g.width, g.height]).toEqual([2 * 1 + 3 * 2, 2 * 1 + 3 * 2]);
    const at = (px: number, py: number) => g.data[py * g.width + px];
    expect([at(2, 2), at(5, 2), at(2, 5), at(5, 5)]).toEqual([0, 128, 255, 0]);
    expect(imageGrid(x, { range: [0, 1] }).data[2 * 8 + 5]).toBe(0); // 0 is black in [0, 1]
  });

  it('refuses bad shapes and options by name', () => {
    expect(() => imageGrid(rand([2, 3, 4, 4]))).toThrow(/fathom\.imageGrid: images must have shape \[N, H, W\] or \[N, 1, H, W\] \(one channel\), got \[2, 3, 4, 4\]/);
    expect(() => imageGrid(rand([16]))).toThrow(/got \[16\]/);
    expect(() => imageGrid(new Tensor(Int32Array.from([1]), [1, 1, 1]))).toThrow(/must be float32, got int32/);
    expect(() => imageGrid(rand([1, 2, 2]), { cols: 0 })).toThrow(/cols must be an integer from 1 to 65536, got 0/);
    expect(() => imageGrid(rand([1, 2, 2]), { gutter: 1.5 })).toThrow(/gutter must be an integer from 0 to 1024, got 1\.5/);
    expect(() => imageGrid(rand([1, 2, 2]), { range: [1, 1] })).toThrow(/range must be \[lo, hi\], finite numbers with lo < hi, got \[1,1\]/);
    expect(() => imageGrid(rand([1, 2, 2]), { gutterValue: 256 })).toThrow(/gutterValue must be an integer from 0 to 255/);
    expect(() => imageGrid(rand([1, 2, 2]), { nrow: 2 } as never)).toThrow(/unknown option 'nrow'/);
  });
});

describe('PNG files (pngjs)', () => {
  it('round-trips through pngjs: an 8-bit greyscale file with the grid\'s pixels', async () => {
    const x = rand([64, 1, 28, 28], { seed: 9, low: -1, high: 1 });
    const g = imageGrid(x, { cols: 8, gutter: 2 });
    expect([g.width, g.height]).toEqual([8 * 28 + 9 * 2, 8 * 28 + 9 * 2]);
    const path = join(dir, 'epoch-01.png');
    await writePng(path, g);
    const bytes = await readFile(path);
    expect(Buffer.from(await encodePng(g)).equals(bytes)).toBe(true);
    const png = PNG.sync.read(bytes);
    expect([png.width, png.height, png.colorType, png.depth]).toEqual([g.width, g.height, 0, 8]);
    // pngjs decodes to RGBA: grey in R, G, B and opaque alpha.
    const grey = new Uint8Array(g.width * g.height);
    let odd = 0;
    for (let i = 0; i < grey.length; i++) {
      if (png.data[4 * i + 1] !== png.data[4 * i] || png.data[4 * i + 2] !== png.data[4 * i] || png.data[4 * i + 3] !== 255) odd++;
      grey[i] = png.data[4 * i];
    }
    expect(odd).toBe(0);
    expect(Buffer.from(grey).equals(Buffer.from(g.data))).toBe(true);
    // A spot check against the rule itself: image 9 (row 1, col 1), pixel (5, 7).
    expect(grey[(2 + 30 + 7) * g.width + (2 + 30 + 5)]).toBe(level((x.data as Float32Array)[(9 * 28 + 7) * 28 + 5]));
  });

  it('encodePng refuses a malformed image; the missing-package message names the install line', async () => {
    await expect(encodePng({ width: 2, height: 2, data: new Uint8Array(3) })).rejects.toThrow(/fathom\.encodePng: img must be .*data of 3 bytes/);
    expect(missingMessage('train', 'writing PNG files', ['pngjs'])).toBe(
      'fathom.train: writing PNG files needs the optional package `pngjs`, which is not installed: npm install pngjs',
    );
  });
});

describe('pngjs is an optional peer dependency', () => {
  it('package.json: an optional peer (and a devDependency), never a dependency; the core import graph does not reach it', () => {
    const root = resolve(dirname(new URL(import.meta.url).pathname), '../../lib');
    const pkg = JSON.parse(readFileSync(join(root, '../package.json'), 'utf8'));
    expect(pkg.peerDependenciesMeta.pngjs).toEqual({ optional: true });
    expect(pkg.peerDependencies.pngjs).toBe(pkg.devDependencies.pngjs);
    expect(pkg.dependencies?.pngjs).toBeUndefined();
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\()\s*'([^']+)'/g)) {
        expect(spec).not.toMatch(/^pngjs/);
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(join(root, 'index.ts'));
    expect(seen.size).toBeGreaterThan(20);
  });

  it('a missing pngjs gives the install line, and fathom train --task gan stops before any work', async () => {
    await withoutOptionalPackages(async () => {
      const png = await import('../../lib/image/png.js');
      await expect(png.encodePng({ width: 1, height: 1, data: new Uint8Array(1) }))
        .rejects.toThrow('fathom.encodePng: writing PNG files needs the optional package `pngjs`, which is not installed: npm install pngjs');
      const gan = await import('../../lib/cli/gan.js');
      const out = join(dir, 'never');
      await expect(gan.trainGan({ model: 'mlp', epochs: 1, batchSize: 64, lr: 2e-4, latent: 64, train: 64, out, seed: 1 }))
        .rejects.toThrow('fathom.train: writing PNG files needs the optional package `pngjs`, which is not installed: npm install pngjs');
      await expect(readFile(out)).rejects.toThrow(/ENOENT/); // the folder was not even created
    });
  });
});
