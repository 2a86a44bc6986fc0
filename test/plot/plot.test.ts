import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Resvg } from '@resvg/resvg-js';
import { decisionBoundary, learningCurves } from '../../lib/plot/index.js';
import { Tensor } from '../../lib/tensor/tensor.js';
import { moons } from '../../lib/data/synthetic.js';
import { withoutOptionalPackages } from '../helpers/optional.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The root element's width and height; throws unless the text is one <svg> element that resvg can parse. */
function svgSize(text: string): { width: number; height: number } {
  const root = /^<svg\b[^>]*>/.exec(text.trimStart());
  if (!root || !text.trimEnd().endsWith('</svg>')) throw new Error('not an <svg> document');
  const attr = (k: string) => Number(new RegExp(`\\s${k}="([0-9.]+)"`).exec(root[0])?.[1]);
  const size = { width: attr('width'), height: attr('height') };
  const parsed = new Resvg(text); // a real SVG parser: throws on malformed XML
  expect([parsed.width, parsed.height]).toEqual([size.width, size.height]);
  return size;
}

/** PNG signature, then the IHDR chunk's width and height. */
function pngSize(bytes: Buffer): { width: number; height: number } {
  expect([...bytes.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(bytes.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
}

const x0s = (t: Tensor): number[] => Array.from(t.f32().filter((_, i) => i % 2 === 0));
const y0s = (t: Tensor): number[] => Array.from(t.f32().filter((_, i) => i % 2 === 1));

const history = {
  epochs: [0, 1, 2, 3],
  history: { loss: [1, 0.5, 0.3, 0.2], accuracy: [0.5, 0.7, 0.8, 0.9], valLoss: [1.1, 0.6, 0.4, 0.45], valAccuracy: [0.4, 0.6, 0.75, 0.74] },
  samplesPerSecond: 1,
};

describe('plot.learningCurves', () => {
  it('draws one panel per metric with training and validation lines, as SVG and PNG files', async () => {
    const svg = await learningCurves(history, { path: join(dir, 'curves.svg') });
    const size = svgSize(svg);
    expect(size.width).toBeGreaterThan(2 * 260); // two panels side by side
    expect(readFileSync(join(dir, 'curves.svg'), 'utf8')).toBe(svg);
    for (const label of ['loss', 'accuracy', 'training', 'validation', 'epoch']) expect(svg).toContain(`>${label}<`);
    // Two panels, each with a training and a validation line.
    expect(svg.match(/aria-roledescription="line mark"/g)).toHaveLength(4);
    expect(svg).toContain('aria-label="epoch: 1; value: 1; split: training"');
    expect(svg).toContain('aria-label="epoch: 4; value: 0.45; split: validation"');
    await learningCurves(history, { path: join(dir, 'curves.png') });
    expect(pngSize(readFileSync(join(dir, 'curves.png')))).toEqual({ width: 2 * size.width, height: 2 * size.height });
    await learningCurves(history.history, { path: join(dir, 'loss.png'), metrics: ['loss'], scale: 1 });
    const one = pngSize(readFileSync(join(dir, 'loss.png')));
    expect(one.width).toBeLessThan(size.width);
  });

  it('refuses an unknown metric, a path of another type, and an empty history', async () => {
    await expect(learningCurves(history, { metrics: ['f1'] })).rejects.toThrow("fathom.plot.learningCurves: options.metrics names 'f1', which the history does not hold (it has loss, accuracy)");
    await expect(learningCurves(history, { path: join(dir, 'x.jpg') })).rejects.toThrow('fathom.plot.learningCurves: options.path must end in .svg or .png');
    await expect(learningCurves({ history: {} })).rejects.toThrow('fathom.plot.learningCurves: history has no per-epoch values to draw');
    expect(existsSync(join(dir, 'x.jpg'))).toBe(false);
  });
});

describe('plot.decisionBoundary', () => {
  const { x, y } = moons({ n: 60, noise: 0.05, seed: 2 });
  // A known classifier: class 1 below the line y = 0.25.
  const below = (p: Tensor): Tensor => {
    const m = p.shape[0];
    const s = new Float32Array(2 * m);
    for (let i = 0; i < m; i++) s[2 * i + 1] = p.data[2 * i + 1] < 0.25 ? 1 : -1;
    return new Tensor(s, [m, 2]);
  };

  it('colours the predicted regions and the points, as SVG and PNG files of the requested size', async () => {
    const svg = await decisionBoundary(below, x, y, { path: join(dir, 'boundary.svg'), resolution: 50, classNames: ['outer', 'inner'] });
    const size = svgSize(svg);
    expect(size.width).toBeGreaterThan(400);
    expect(svg).toContain('>outer<');
    // Regions are runs of equal cells per grid row: a horizontal boundary leaves one full-width run per row,
    // 'inner' (class 1) on the rows below y = 0.25 and 'outer' above.
    const rects = [...svg.matchAll(/<path aria-label="x: [^;]*; y: ([^;]*); x2: [^;]*; y2: ([^;]*); class: (\w+)" role="graphics-symbol" aria-roledescription="rect mark" shape-rendering="crispEdges" d="M0,[0-9.]+h400v/g)];
    const [xr, yr] = [x0s(x), y0s(x)].map((v) => Math.max(...v) - Math.min(...v)); // moons: xr > yr
    const rows = Math.ceil((50 * (yr + 0.2 * xr)) / (1.2 * xr)); // padding 0.1 of the longer side around both
    expect(rects.length).toBe(svg.match(/aria-roledescription="rect mark"/g)!.length);
    expect(Math.abs(rects.length - rows)).toBeLessThanOrEqual(2);
    const num = (v: string) => Number(v.replace('−', '-'));
    for (const [, lo, hi, cls] of rects) expect(cls).toBe((num(lo) + num(hi)) / 2 < 0.25 ? 'inner' : 'outer'); // the cell centre decides
    expect(svg.match(/aria-roledescription="circle"/g)).toHaveLength(60);
    expect(readFileSync(join(dir, 'boundary.svg'), 'utf8')).toBe(svg);
    await decisionBoundary(below, x, y, { path: join(dir, 'boundary.png'), resolution: 50, classNames: ['outer', 'inner'], scale: 1 });
    expect(pngSize(readFileSync(join(dir, 'boundary.png')))).toEqual(size);
  });

  it('takes a Module (predict) and a one-output logit model; refuses bad inputs', async () => {
    const oneLogit = { predict: (p: Tensor) => new Tensor(p.f32().filter((_, i) => i % 2 === 1).map((v) => 0.25 - v), [p.shape[0], 1]) };
    const a = await decisionBoundary(oneLogit, x, y, { resolution: 20 });
    const b = await decisionBoundary(below, x, y, { resolution: 20 });
    expect(a).toBe(b);
    await expect(decisionBoundary(below, new Tensor(new Float32Array(6), [2, 3]), y)).rejects.toThrow('fathom.plot.decisionBoundary: x must be float32 points [n, 2] with n >= 1, got float32 [2, 3]');
    await expect(decisionBoundary(below, x, new Tensor(new Float32Array(60), [60]))).rejects.toThrow('fathom.plot.decisionBoundary: y must be int32 class indices [60], got float32 [60]');
    await expect(decisionBoundary(below, x, y, { resolution: 1 })).rejects.toThrow('fathom.plot.decisionBoundary: options.resolution must be an integer from 2 to 2000, got 1');
    await expect(decisionBoundary(() => new Tensor(new Float32Array(3), [3]), x, y)).rejects.toThrow('fathom.plot.decisionBoundary: the model must map [m, 2] points to float32 scores [m, classes]');
    // a label the model cannot predict (it would also size the legend: 1e9 classes ran out of memory)
    const far = new Tensor(Int32Array.from(y.data as Int32Array, (v, i) => (i === 3 ? 1e9 : v)), [60]);
    await expect(decisionBoundary(below, x, far)).rejects.toThrow('fathom.plot.decisionBoundary: y must hold class indices in [0, 2) for a model with 2 outputs, got 1000000000 at 3');
  });

  it('coinciding points far from the origin still get a grid; a PNG too large to allocate is refused', async () => {
    const pts = new Tensor(new Float32Array([1e12, 1e12, 1e12, 1e12]), [2, 2]);
    const svg = await decisionBoundary(below, pts, new Tensor(new Int32Array([0, 1]), [2]), { resolution: 10 });
    expect(svg).toMatch(/^<svg/);
    await expect(decisionBoundary(below, x, y, { resolution: 10, size: 4000, scale: 16, path: join(dir, 'huge.png') }))
      .rejects.toThrow(/fathom.plot.decisionBoundary: the PNG would be \d+ × \d+ pixels; at most 64 megapixels/);
    expect(existsSync(join(dir, 'huge.png'))).toBe(false);
    await expect(learningCurves(history, { width: 1e9 })).rejects.toThrow('fathom.plot.learningCurves: options.width must be an integer from 50 to 4000, got 1000000000');
    await expect(learningCurves(history, { height: -5 })).rejects.toThrow('options.height must be an integer from 50 to 4000, got -5');
  });
});

describe('fathom/plot packaging', () => {
  it('the core import graph never reaches the plot module or the drawing packages', () => {
    const root = resolve(dirname(new URL(import.meta.url).pathname), '../../lib');
    const seen = new Set<string>();
    const walk = (file: string): void => {
      if (seen.has(file)) return;
      seen.add(file);
      const text = readFileSync(file, 'utf8');
      for (const [, spec] of text.matchAll(/(?:from\s+|import\()\s*'([^']+)'/g)) {
        expect(spec).not.toMatch(/^(vega|vega-lite|@resvg\/)/);
        if (spec.startsWith('.')) walk(resolve(dirname(file), spec.replace(/\.js$/, '.ts')));
      }
    };
    walk(join(root, 'index.ts'));
    expect(seen.size).toBeGreaterThan(20);
    expect([...seen].filter((f) => f.includes('/plot/'))).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, '../package.json'), 'utf8'));
    expect(pkg.exports['./plot'].default).toBe('./dist/plot/index.js');
    for (const p of ['vega', 'vega-lite', '@resvg/resvg-js']) {
      expect(pkg.peerDependenciesMeta[p]).toEqual({ optional: true });
      expect(pkg.dependencies?.[p]).toBeUndefined();
    }
  });

  it('a missing vega or resvg gives the install line', async () => {
    await withoutOptionalPackages(async () => {
      const p = await import('../../lib/plot/index.js');
      await expect(p.learningCurves(history)).rejects.toThrow('fathom.plot.learningCurves: drawing needs the optional packages `vega` and `vega-lite`, which are not installed: npm install vega vega-lite');
    });
  });
});
