/**
 * `fathom/plot`: pictures of training, drawn with Vega-Lite (compiled to Vega
 * and rendered to SVG on the server, no browser) and, for PNG, rasterised by
 * resvg. These are optional peer dependencies of fathom, loaded only when a
 * picture is drawn, so `import 'fathom'` never loads them:
 *
 *   npm install vega vega-lite            (SVG)
 *   npm install @resvg/resvg-js           (PNG as well)
 *
 * learningCurves(history)                  loss and each metric per epoch, training vs validation
 * decisionBoundary(model, x, y)            a 2-D classifier's predicted regions under its data
 *
 * Both resolve to the SVG text and, given `path`, write the picture to it:
 * SVG for a name ending in .svg, PNG for .png (atomically: a reader never sees half a file).
 */
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { noGrad } from '../autograd/tape.js';
import { checkOptions, show } from '../layers/options.js';
import { writeFileAtomic } from '../io/atomic.js';
import { toPath, type FilePath } from '../io/paths.js';
import { importOptional } from '../data/optional.js';

/** A fit() History, or its `history` record: metric name → one number per epoch (valX = validation of X). */
export type HistoryLike =
  | { epochs?: number[]; history: Record<string, readonly number[] | undefined> }
  | Record<string, readonly number[] | undefined>;

export interface PictureOptions {
  /** Write the picture here too: .svg (the SVG text) or .png (rendered by resvg). */
  path?: FilePath;
  /** PNG pixels per SVG unit (default 2, for sharp pictures on high-density screens). */
  scale?: number;
  /** A title above the picture. */
  title?: string;
}

export interface LearningCurvesOptions extends PictureOptions {
  /** The metrics to draw, in order (default: loss, then every other metric in the history). Names without the 'val' prefix. */
  metrics?: string[];
  /** Width and height of each panel in pixels (default 260 × 200). */
  width?: number;
  height?: number;
}

export interface DecisionBoundaryOptions extends PictureOptions {
  /** Grid cells along the longer side of the plane (default 200, from 2 to 2000). */
  resolution?: number;
  /** Names of the classes for the legend (default '0', '1', …). */
  classNames?: string[];
  /** Margin around the data, as a fraction of its range (default 0.1). */
  padding?: number;
  /** Side of the square plot in pixels (default 400). */
  size?: number;
}

/** A classifier: a Module (its predict() is used) or a function from (N, 2) points to (N, C) scores. */
export type Classifier = { predict(x: Tensor): Tensor } | ((x: Tensor) => Tensor);

const SVG_WHAT = 'drawing';
/** Sans-serif faces of common Linux installs first (resvg did not skip to a later family when an earlier one was missing), then macOS and Windows ones. */
const FONT = '"DejaVu Sans", "Liberation Sans", Arial, Helvetica, sans-serif';
const SVG_PACKAGES = ['vega', 'vega-lite'];

interface VegaLite { compile(spec: unknown): { spec: unknown } }
interface Vega {
  parse(spec: unknown): unknown;
  View: new (runtime: unknown, opts: { renderer: 'none' }) => { toSVG(): Promise<string>; finalize(): void };
}
interface ResvgModule {
  Resvg: new (svg: string, opts: unknown) => { render(): { asPng(): Uint8Array; width: number; height: number } };
}

/** Vega-Lite spec → SVG text. */
async function toSvg(op: string, spec: Record<string, unknown>): Promise<string> {
  const vl = await importOptional<VegaLite & { default?: VegaLite }>(op, 'vega-lite', SVG_WHAT, SVG_PACKAGES);
  const vega = await importOptional<Vega & { default?: Vega }>(op, 'vega', SVG_WHAT, SVG_PACKAGES);
  const compile = vl.compile ?? vl.default!.compile;
  const v = vega.View ? vega : vega.default!;
  const view = new v.View(v.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function checkScale(op: string, scale: unknown): number {
  if (scale === undefined) return 2;
  if (typeof scale !== 'number' || !(scale > 0 && scale <= 16)) throw new Error(`fathom.${op}: options.scale must be a number in (0, 16], got ${show(scale)}`);
  return scale;
}

/** The output path and its format, checked before any work. */
function target(op: string, path: FilePath | undefined): { file: string; png: boolean } | null {
  if (path === undefined) return null;
  const file = toPath(path, `fathom.${op}`, 'options.path');
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  if (ext !== 'svg' && ext !== 'png') throw new Error(`fathom.${op}: options.path must end in .svg or .png, got ${JSON.stringify(file)}`);
  return { file, png: ext === 'png' };
}

/** The largest PNG drawn (8000 × 8000): resvg aborts the process when it cannot allocate one. */
const MAX_PNG_PIXELS = 64e6;

/** Writes the SVG, or its PNG rendering at `scale`, to the target. */
async function write(op: string, svg: string, out: { file: string; png: boolean } | null, scale: number): Promise<void> {
  if (out === null) return;
  let bytes: Uint8Array;
  if (out.png) {
    // The picture's size in pixels, from the root <svg width height>: refused before resvg allocates it.
    const m = /<svg[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"/.exec(svg);
    const px = m ? Number(m[1]) * Number(m[2]) * scale * scale : 0;
    if (px > MAX_PNG_PIXELS) {
      throw new Error(`fathom.${op}: the PNG would be ${Math.round(Number(m![1]) * scale)} × ${Math.round(Number(m![2]) * scale)} pixels; at most ${MAX_PNG_PIXELS / 1e6} megapixels (lower options.scale or the size)`);
    }
    const { Resvg } = await importOptional<ResvgModule>(op, '@resvg/resvg-js', 'PNG output', ['@resvg/resvg-js']);
    bytes = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: { loadSystemFonts: true } }).render().asPng();
  } else {
    bytes = new TextEncoder().encode(svg);
  }
  await writeFileAtomic(out.file, bytes);
}

/** The per-epoch series of a history: metric → { training, validation }. */
function series(op: string, history: unknown): Map<string, { training?: readonly number[]; validation?: readonly number[] }> {
  if (history === null || typeof history !== 'object') throw new Error(`fathom.${op}: history must be fit()'s History or its history record, got ${show(history)}`);
  const rec = (('history' in history && typeof history.history === 'object' && history.history !== null) ? history.history : history) as Record<string, unknown>;
  const out = new Map<string, { training?: readonly number[]; validation?: readonly number[] }>();
  for (const [key, values] of Object.entries(rec)) {
    if (values === undefined) continue;
    if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) {
      throw new Error(`fathom.${op}: history.${key} must be an array of numbers (one per epoch), got ${show(values)}`);
    }
    const val = /^val[A-Z]/.test(key);
    const name = val ? key[3].toLowerCase() + key.slice(4) : key;
    const entry = out.get(name) ?? {};
    if (val) entry.validation = values; else entry.training = values;
    out.set(name, entry);
  }
  return out;
}

/**
 * Learning curves: one panel per metric (loss first), the training and
 * validation values per epoch as two lines, each panel with its own y scale.
 * The picture that tells under-fitting (both high) from over-fitting
 * (validation rising while training falls).
 *
 * @returns the SVG text (also written to options.path when given).
 * @throws when the history holds no per-epoch series, a requested metric is
 *   not in it, options are bad, or vega / vega-lite (and for .png
 *   @resvg/resvg-js) are not installed (the error gives the npm install line).
 */
export async function learningCurves(history: HistoryLike, opts?: LearningCurvesOptions): Promise<string> {
  const op = 'plot.learningCurves';
  const o = checkOptions(op, opts, { path: ['string', 'object'], scale: 'number', title: 'string', metrics: 'array', width: 'number', height: 'number' });
  const out = target(op, o.path);
  const scale = checkScale(op, o.scale);
  for (const k of ['width', 'height'] as const) {
    const v = o[k];
    if (v !== undefined && !(Number.isInteger(v) && v >= 50 && v <= 4000)) throw new Error(`fathom.${op}: options.${k} must be an integer from 50 to 4000, got ${show(v)}`);
  }
  const all = series(op, history);
  if (all.size === 0) throw new Error(`fathom.${op}: history has no per-epoch values to draw`);
  const names = o.metrics ?? ['loss', ...[...all.keys()].filter((k) => k !== 'loss')].filter((k) => all.has(k));
  for (const m of names) {
    if (!all.has(m)) throw new Error(`fathom.${op}: options.metrics names '${String(m)}', which the history does not hold (it has ${[...all.keys()].join(', ')})`);
  }
  const epochs = (history as { epochs?: unknown }).epochs;
  const rows: { epoch: number; metric: string; split: string; value: number }[] = [];
  for (const m of names) {
    for (const split of ['training', 'validation'] as const) {
      all.get(m)![split]?.forEach((value, i) => {
        if (Number.isFinite(value)) rows.push({ epoch: Array.isArray(epochs) && typeof epochs[i] === 'number' ? epochs[i] + 1 : i + 1, metric: m, split, value });
      });
    }
  }
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(o.title !== undefined ? { title: o.title } : {}),
    data: { values: rows },
    facet: { field: 'metric', type: 'nominal', sort: names, title: null, header: { labelFontSize: 13, labelFontWeight: 'bold' } },
    columns: Math.min(names.length, 3),
    resolve: { scale: { y: 'independent' } },
    spec: {
      width: o.width ?? 260,
      height: o.height ?? 200,
      // Dots on each epoch while they can be told apart.
      mark: { type: 'line', point: rows.length <= 60 * names.length },
      encoding: {
        x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' }, scale: { zero: false } },
        y: { field: 'value', type: 'quantitative', title: null, scale: { zero: false } },
        color: { field: 'split', type: 'nominal', title: null, scale: { domain: ['training', 'validation'], range: ['#1f77b4', '#ff7f0e'] } },
      },
    },
    config: { background: 'white', font: FONT, legend: { orient: 'bottom' } },
  };
  const svg = await toSvg(op, spec);
  await write(op, svg, out, scale);
  return svg;
}

/**
 * A 2-D classifier's decision regions: every cell of a grid over the data's
 * range (plus `padding`) is coloured by the class the model predicts there
 * (argmax of its C ≥ 2 outputs; with one output, class 1 where it is > 0, as
 * for logits), and the points (N, 2) are drawn on top in their true class's colour.
 * The regions are drawn as runs of equal cells per grid row, so the SVG
 * stays small at any resolution.
 *
 * x: (N, 2) float32, y: (N) int32 class indices.
 * @returns the SVG text (also written to options.path when given).
 * @throws for x not (N, 2) float32 with N >= 1, y not (N) int32, a model
 *   whose output is not (M, C), bad options, or missing vega / vega-lite
 *   (and for .png @resvg/resvg-js).
 */
export async function decisionBoundary(model: Classifier, x: Tensor, y: Tensor, opts?: DecisionBoundaryOptions): Promise<string> {
  const op = 'plot.decisionBoundary';
  const o = checkOptions(op, opts, { path: ['string', 'object'], scale: 'number', title: 'string', resolution: 'number', classNames: 'array', padding: 'number', size: 'number' });
  const out = target(op, o.path);
  const scale = checkScale(op, o.scale);
  const predict = typeof model === 'function' ? model : model !== null && typeof model === 'object' && typeof model.predict === 'function' ? (t: Tensor) => model.predict(t) : null;
  if (predict === null) throw new Error(`fathom.${op}: model must be a Module (with predict) or a function from points to scores, got ${show(model)}`);
  if (!(x instanceof Tensor) || x.dtype !== 'float32' || x.rank !== 2 || x.shape[1] !== 2 || x.shape[0] === 0) {
    throw new Error(`fathom.${op}: x must be float32 points [n, 2] with n >= 1, got ${x instanceof Tensor ? `${x.dtype} ${fmt(x.shape)}` : show(x)}`);
  }
  const n = x.shape[0];
  if (!(y instanceof Tensor) || y.dtype !== 'int32' || y.rank !== 1 || y.shape[0] !== n) {
    throw new Error(`fathom.${op}: y must be int32 class indices [${n}], got ${y instanceof Tensor ? `${y.dtype} ${fmt(y.shape)}` : show(y)}`);
  }
  const res = o.resolution ?? 200;
  if (!Number.isInteger(res) || res < 2 || res > 2000) throw new Error(`fathom.${op}: options.resolution must be an integer from 2 to 2000, got ${show(o.resolution)}`);
  const padding = o.padding ?? 0.1;
  if (!(padding >= 0 && padding <= 10)) throw new Error(`fathom.${op}: options.padding must be a number from 0 to 10, got ${show(o.padding)}`);
  const size = o.size ?? 400;
  if (!(Number.isInteger(size) && size >= 50 && size <= 4000)) throw new Error(`fathom.${op}: options.size must be an integer from 50 to 4000, got ${show(o.size)}`);

  const xs = x.f32();
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (let i = 0; i < n; i++) {
    const a = xs[2 * i], b = xs[2 * i + 1];
    if (!Number.isFinite(a) || !Number.isFinite(b)) throw new Error(`fathom.${op}: x must be finite, got ${a}, ${b} at row ${i}`);
    x0 = Math.min(x0, a); x1 = Math.max(x1, a); y0 = Math.min(y0, b); y1 = Math.max(y1, b);
  }
  // Each side at least a millionth of the coordinates' magnitude: coinciding points (far from 0 too) still get a grid.
  const tiny = 1e-6 * Math.max(1, Math.abs(x0), Math.abs(x1), Math.abs(y0), Math.abs(y1));
  if (x1 - x0 < tiny) [x0, x1] = [(x0 + x1) / 2 - tiny / 2, (x0 + x1) / 2 + tiny / 2];
  if (y1 - y0 < tiny) [y0, y1] = [(y0 + y1) / 2 - tiny / 2, (y0 + y1) / 2 + tiny / 2];
  const span = Math.max(x1 - x0, y1 - y0);
  x0 -= padding * span; x1 += padding * span; y0 -= padding * span; y1 += padding * span;
  const cell = Math.max(x1 - x0, y1 - y0) / res;
  const cols = Math.max(1, Math.ceil((x1 - x0) / cell));
  const rowsN = Math.max(1, Math.ceil((y1 - y0) / cell));
  const grid = new Float32Array(cols * rowsN * 2);
  for (let r = 0; r < rowsN; r++) {
    for (let c = 0; c < cols; c++) {
      grid[2 * (r * cols + c)] = x0 + (c + 0.5) * cell;
      grid[2 * (r * cols + c) + 1] = y0 + (r + 0.5) * cell;
    }
  }
  const scores = noGrad(() => predict(new Tensor(grid, [cols * rowsN, 2])));
  if (!(scores instanceof Tensor) || scores.rank !== 2 || scores.shape[0] !== cols * rowsN || scores.dtype !== 'float32') {
    throw new Error(`fathom.${op}: the model must map [m, 2] points to float32 scores [m, classes], got ${scores instanceof Tensor ? `${scores.dtype} ${fmt(scores.shape)}` : show(scores)} for m = ${cols * rowsN}`);
  }
  const k = scores.shape[1];
  const s = scores.f32();
  const label = (i: number): number => {
    if (k === 1) return s[i] > 0 ? 1 : 0;
    let best = 0;
    for (let j = 1; j < k; j++) if (s[i * k + j] > s[i * k + best]) best = j;
    return best;
  };
  const classes = k === 1 ? 2 : k;
  y.data.forEach((v, i) => {
    if (!(v >= 0 && v < classes)) throw new Error(`fathom.${op}: y must hold class indices in [0, ${classes}) for a model with ${k} output${k === 1 ? ' (two classes)' : 's'}, got ${v} at ${i}`);
  });
  const names = o.classNames ?? Array.from({ length: classes }, (_, i) => String(i));
  if (names.length < classes || !names.every((v) => typeof v === 'string')) {
    throw new Error(`fathom.${op}: options.classNames must name each of the ${classes} classes as a string, got ${show(o.classNames)}`);
  }
  const regions: { x: number; x2: number; y: number; y2: number; cls: string }[] = [];
  for (let r = 0; r < rowsN; r++) {
    let start = 0;
    for (let c = 1; c <= cols; c++) {
      const cur = label(r * cols + start);
      if (c === cols || label(r * cols + c) !== cur) {
        regions.push({ x: x0 + start * cell, x2: x0 + c * cell, y: y0 + r * cell, y2: y0 + (r + 1) * cell, cls: names[cur] });
        start = c;
      }
    }
  }
  const points = Array.from({ length: n }, (_, i) => ({ px: xs[2 * i], py: xs[2 * i + 1], cls: names[y.data[i]] }));
  const domain = names.slice(0, classes);
  const xScale = { domain: [x0, x0 + cols * cell], nice: false, zero: false };
  const yScale = { domain: [y0, y0 + rowsN * cell], nice: false, zero: false };
  const color = { field: 'cls', type: 'nominal', title: 'class', scale: { domain, scheme: 'category10' } };
  const spec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(o.title !== undefined ? { title: o.title } : {}),
    width: size,
    height: Math.round((size * rowsN) / cols),
    layer: [
      {
        data: { values: regions },
        mark: { type: 'rect', opacity: 0.3, strokeWidth: 0 },
        encoding: {
          x: { field: 'x', type: 'quantitative', scale: xScale, title: null },
          x2: { field: 'x2' },
          y: { field: 'y', type: 'quantitative', scale: yScale, title: null },
          y2: { field: 'y2' },
          color,
        },
      },
      {
        data: { values: points },
        mark: { type: 'circle', size: 22, opacity: 0.95, stroke: 'white', strokeWidth: 0.6 },
        encoding: {
          x: { field: 'px', type: 'quantitative', scale: xScale },
          y: { field: 'py', type: 'quantitative', scale: yScale },
          color,
        },
      },
    ],
    config: { background: 'white', font: FONT, view: { stroke: '#888' } },
  };
  // Adjacent region cells must not show anti-aliased seams: draw them with crisp edges.
  const svg = (await toSvg(op, spec)).replaceAll('aria-roledescription="rect mark"', 'aria-roledescription="rect mark" shape-rendering="crispEdges"');
  await write(op, svg, out, scale);
  return svg;
}
