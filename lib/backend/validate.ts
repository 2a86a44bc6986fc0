/**
 * The argument checks of the raw-kernel specs (lib/backend/checked.ts): sizes
 * and their products, typed arrays of the right type and length, scalars
 * finite in float32, enums, overlap of outputs and inputs, and the geometry
 * objects of the convolution, pooling and normalisation kernels. Each throws
 * `fathom.backend.<op>: <argument> must be …, got …`.
 */
// --- #11 cells ---
import { RnnKind, rnnGateCount, rnnWorkspaceSize, type RnnGeometry } from './backend.js';
// --- end #11 cells ---
import { Optim, CONV_GEOMETRY_FIELDS, type OptimOptions, type SgdOptions, type UnaryOp, type Pool2dGeom, type ConvGeometry } from './backend.js';
import { unaryEntry } from './unary_table.js';

const MAX = Number.MAX_SAFE_INTEGER;
/** Largest finite float32 (FLT_MAX): the one definition the ops share. */
export const F32_MAX = 3.4028234663852886e38;
/** The largest |z| Box-Muller can produce from 24-bit uniforms: sqrt(-2 ln 2^-24) < 5.77. */
export const NORMAL_REACH = 5.77;
const MAX_DIMS = 8;

/** A short description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (typeof v === 'number') return `number ${v}`;
  if (typeof v === 'bigint') return `bigint ${v}`;
  if (typeof v === 'string') return `string '${v.length > 20 ? v.slice(0, 20) + '…' : v}'`;
  if (typeof v === 'boolean') return `boolean ${v}`;
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Float32Array).length ?? v.byteLength})`;
  if (Array.isArray(v)) return `Array(${v.length})`;
  if (typeof v === 'function') return 'function';
  return typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v;
}

export function fail(op: string, msg: string): never {
  throw new Error(`fathom.backend.${op}: ${msg}`);
}

/** True when the ArrayBuffer behind a view was transferred or detached. */
export function isDetached(buf: ArrayBufferLike): boolean {
  if (buf.byteLength !== 0) return false;
  const d = (buf as { detached?: boolean }).detached;
  if (typeof d === 'boolean') return d;
  try {
    new Uint8Array(buf); // throws on a detached buffer (Node < 22 has no .detached)
    return false;
  } catch {
    return true;
  }
}

export function size(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX) {
    fail(op, `${name} must be a non-negative integer (at most 2^53 - 1), got ${describe(v)}`);
  }
  return v;
}

export function product(op: string, what: string, a: number, b: number): number {
  if (b !== 0 && a > MAX / b) fail(op, `${what} = ${a} * ${b} exceeds 2^53 - 1`);
  return a * b;
}

function arr<T extends Float32Array | Int32Array>(
  op: string, name: string, v: unknown, ctor: new (n: number) => T, type: string, len: number | undefined,
): T {
  if (!(v instanceof ctor)) fail(op, `${name} must be a ${ctor.name}, got ${describe(v)}`);
  const a = v as T;
  if (a.length === 0 && isDetached(a.buffer)) fail(op, `${name} is backed by a detached (transferred) ArrayBuffer`);
  if (len !== undefined && a.length !== len) fail(op, `${name} must hold ${len} ${type} values, got ${a.length}`);
  return a;
}
export const f32 = (op: string, name: string, v: unknown, len?: number): Float32Array =>
  arr(op, name, v, Float32Array, 'float32', len);
export const i32 = (op: string, name: string, v: unknown, len?: number): Int32Array => arr(op, name, v, Int32Array, 'int32', len);

export function bool(op: string, name: string, v: unknown): boolean {
  if (typeof v !== 'boolean') fail(op, `${name} must be a boolean, got ${describe(v)}`);
  return v;
}

interface Range { min?: number; minOpen?: boolean; max?: number; maxOpen?: boolean }

/** A number that is finite once rounded to float32, inside an optional range. */
/** p and q as the op's table entry accepts them (e.g. softplus refuses beta = 0, which would write Inf). */
export function unaryParams(o: string, op: UnaryOp, p: number, q: number): void {
  (unaryEntry(op).params ?? []).forEach((spec, i) => {
    const v = i === 0 ? p : q;
    const why = spec.refuse?.(v);
    if (why) fail(o, `${i === 0 ? 'p' : 'q'} (${op}'s ${spec.name}) must be ${why}, got ${v}`);
  });
}

export function num32(op: string, name: string, v: unknown, r: Range = {}): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || !Number.isFinite(Math.fround(v))) {
    fail(op, `${name} must be a number that is finite in float32 (|x| <= ${F32_MAX}), got ${describe(v)}`);
  }
  const lo = r.min !== undefined && (r.minOpen ? v <= r.min : v < r.min);
  const hi = r.max !== undefined && (r.maxOpen ? v >= r.max : v > r.max);
  if (lo || hi) {
    const left = r.min === undefined ? '(-Infinity' : `${r.minOpen ? '(' : '['}${r.min}`;
    const right = r.max === undefined ? 'Infinity)' : `${r.max}${r.maxOpen ? ')' : ']'}`;
    fail(op, `${name} must be in ${left}, ${right}, got ${v}`);
  }
  return v;
}

export function enumName(op: string, name: string, v: unknown, table: object): void {
  if (typeof v !== 'string' || !Object.hasOwn(table, v)) {
    fail(op, `${name} must be one of ${Object.keys(table).map((k) => `'${k}'`).join(', ')}, got ${describe(v)}`);
  }
}

export function u64(op: string, name: string, v: unknown): void {
  if (typeof v !== 'bigint' || v < 0n || v >= 1n << 64n) {
    fail(op, `${name} must be a bigint in [0, 2^64), got ${describe(v)}`);
  }
}

function obj(op: string, name: string, v: unknown): Record<string, unknown> {
  if (typeof v !== 'object' || v === null) fail(op, `${name} must be an options object, got ${describe(v)}`);
  return v as Record<string, unknown>;
}

/** A shape or a stride list: at most 8 non-negative integers. */
export function ints(op: string, name: string, v: unknown): readonly number[] {
  if (!Array.isArray(v)) fail(op, `${name} must be an array of non-negative integers, got ${describe(v)}`);
  if (v.length > MAX_DIMS) fail(op, `${name} has ${v.length} entries, at most ${MAX_DIMS} are supported`);
  for (let i = 0; i < v.length; i++) size(op, `${name}[${i}]`, v[i]);
  return v as readonly number[];
}

export function shapeSize(op: string, shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n = product(op, `the size of shape [${shape.join(', ')}]`, n, d);
  return n;
}

/** The largest element index a strided walk over `shape` reads (0 for an empty walk). */
export function reach(op: string, name: string, shape: readonly number[], strides: readonly number[]): number {
  if (shape.includes(0)) return 0;
  let m = 0;
  for (let d = 0; d < shape.length; d++) {
    const k = shape[d] - 1;
    if (k > 0 && strides[d] > (MAX - m) / k) fail(op, `${name} reach past 2^53 - 1`);
    m += k * strides[d];
  }
  return m;
}

type View = Float32Array | Int32Array;

/**
 * Refuses an output that overlaps another argument. `sameOk` allows the very
 * same view (same buffer, offset and length), for kernels documented in place.
 */
export function apart(op: string, outName: string, out: View, inName: string, x: View | null, sameOk = false): void {
  if (!x || out.buffer !== x.buffer || out.byteLength === 0 || x.byteLength === 0) return;
  const a0 = out.byteOffset, a1 = a0 + out.byteLength, b0 = x.byteOffset, b1 = b0 + x.byteLength;
  const lo = Math.max(a0, b0), hi = Math.min(a1, b1);
  if (lo >= hi) return;
  if (sameOk && a0 === b0 && a1 === b1 && out.constructor === x.constructor) return;
  const rule = sameOk
    ? `${outName} may be ${inName} itself (the same view, in place) but must not partly overlap it`
    : 'the output must not alias the input';
  fail(op, `${outName} overlaps ${inName} (same buffer, bytes ${lo}..${hi}); ${rule}`);
}

// ---- normalisation ----
/**
 * x viewed as [n, c, s]: the sizes and n·c·s; `perChannel` (the batch statistics
 * divide by n·s) refuses n·s = 0 when c > 0.
 */
export function channels(op: string, n: unknown, c: unknown, s: unknown, perChannel: boolean): { ncs: number } {
  const ns = product(op, 'n * s', size(op, 'n', n), size(op, 's', s));
  const ncs = product(op, 'n * c * s', ns, size(op, 'c', c));
  if (perChannel && (c as number) > 0 && ns === 0) fail(op, `the batch statistics need n * s >= 1 value per channel, got n = ${n}, s = ${s}`);
  return { ncs };
}

/** eps > 0 and still > 0 once rounded to float32 (the kernels add it in float32). */
export function normEps(op: string, eps: unknown): void {
  num32(op, 'eps', eps, { min: 0, minOpen: true });
  if (Math.fround(eps as number) === 0) fail(op, `eps must be > 0 in float32 (at least ~1.4e-45), got ${eps}`);
}

/** Rows of d for layer norm: d >= 1 when r > 0; returns r·d. */
export function normRows(op: string, r: unknown, d: unknown): number {
  const rd = product(op, 'r * d', size(op, 'r', r), size(op, 'd', d));
  if ((r as number) > 0 && d === 0) fail(op, 'd must be >= 1 when r > 0, got 0');
  return rd;
}

/** Every output apart from every input and from the other outputs (null entries skipped). */
export function disjoint(op: string, outs: [string, View | null][], ins: [string, View | null][]): void {
  for (const [i, [on, ov]] of outs.entries()) {
    if (!ov) continue;
    for (const [inName, iv] of ins) apart(op, on, ov, inName, iv);
    for (const [pn, pv] of outs.slice(i + 1)) apart(op, on, ov, pn, pv);
  }
}
// ---- end normalisation ----

/** Rows of an (n x d) matrix: both sizes and their product. */
export function rows(op: string, n: unknown, d: unknown): number {
  return product(op, 'n * d', size(op, 'n', n), size(op, 'd', d));
}

/** n groups of k values: k >= 1 when n > 0; returns n * k. */
export function groups(op: string, n: unknown, k: unknown): number {
  const nk = product(op, 'n * k', size(op, 'n', n), size(op, 'k', k));
  if ((n as number) > 0 && k === 0) fail(op, 'k must be >= 1 when n > 0, got 0');
  return nk;
}

export function sgdOptions(op: string, v: unknown): SgdOptions {
  const o = obj(op, 'options', v);
  num32(op, 'lr', o.lr, { min: 0 });
  const momentum = num32(op, 'momentum', o.momentum, { min: 0 });
  const dampening = num32(op, 'dampening', o.dampening, { min: 0, max: 1 });
  num32(op, 'weightDecay', o.weightDecay, { min: 0 });
  if (bool(op, 'nesterov', o.nesterov) && (momentum <= 0 || dampening !== 0)) {
    fail(op, `nesterov needs momentum > 0 and dampening = 0, got momentum ${momentum}, dampening ${dampening}`);
  }
  return o as unknown as SgdOptions;
}

/** optimStep's options: the common fields, then every kind-specific field given (all checked), the kind's own required. */
export function optimOptions(op: string, kind: keyof typeof Optim, v: unknown): OptimOptions {
  const o = obj(op, 'options', v);
  num32(op, 'lr', o.lr, { min: 0 });
  num32(op, 'weightDecay', o.weightDecay, { min: 0 });
  num32(op, 'eps', o.eps, { min: 0, minOpen: true });
  if (Math.fround(o.eps as number) === 0) fail(op, `eps must stay above 0 once rounded to float32, got ${o.eps}`);
  if (typeof o.step !== 'number' || !Number.isInteger(o.step) || o.step < 1 || o.step > MAX) {
    fail(op, `step (the step count) must be an integer >= 1, got ${describe(o.step)}`);
  }
  const reads: readonly string[] = Optim[kind].reads;
  const ranges: Record<string, Range> = {
    beta1: { min: 0, max: 1, maxOpen: true }, beta2: { min: 0, max: 1, maxOpen: true },
    alpha: { min: 0, max: 1 }, rho: { min: 0, max: 1 }, momentum: { min: 0 }, lrDecay: { min: 0 },
  };
  for (const [key, r] of Object.entries(ranges)) {
    if (o[key] === undefined && !reads.includes(key)) continue;
    num32(op, key, o[key], r);
    if (r.maxOpen && Math.fround(o[key] as number) >= 1) fail(op, `${key} must stay below 1 once rounded to float32, got ${o[key]}`);
  }
  for (const key of ['decoupled', 'amsgrad', 'centered']) {
    if (o[key] !== undefined || reads.includes(key)) bool(op, key, o[key]);
  }
  return o as unknown as OptimOptions;
}

export function labels(op: string, v: unknown, n: number, d: number): Int32Array {
  const l = i32(op, 'labels', v, n);
  for (let i = 0; i < n; i++) {
    if (l[i] < 0 || l[i] >= d) fail(op, `labels[${i}] = ${l[i]} is outside [0, ${d})`);
  }
  return l;
}

// ---- conv ----
/** A ConvGeometry's fields as integers below 2^31 (the binding's Int32Array) and the three buffer sizes. */
export function convSizes(op: string, g: unknown): { x: number; w: number; y: number } {
  if (typeof g !== 'object' || g === null) fail(op, `g must be a ConvGeometry object, got ${describe(g)}`);
  const v = g as Record<string, unknown>;
  for (const f of CONV_GEOMETRY_FIELDS) {
    const d = v[f];
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0 || d > 0x7fffffff) {
      fail(op, `g.${f} must be an integer in [0, 2^31 - 1], got ${describe(d)}`);
    }
  }
  const q = g as ConvGeometry;
  for (const f of ['c', 'o', 'kh', 'kw', 'strideH', 'strideW', 'dilationH', 'dilationW', 'groups'] as const) {
    if (q[f] < 1) fail(op, `g.${f} must be >= 1, got ${q[f]}`);
  }
  if (q.c % q.groups !== 0 || q.o % q.groups !== 0) fail(op, `g.groups = ${q.groups} must divide g.c = ${q.c} and g.o = ${q.o}`);
  const cg = q.c / q.groups;
  const x = shapeSize(op, [q.n, q.c, q.h, q.w]);
  const w = shapeSize(op, [q.o, cg, q.kh, q.kw]);
  const y = shapeSize(op, [q.n, q.o, q.oh, q.ow]);
  shapeSize(op, [cg, q.kh, q.kw, q.oh, q.ow]); // the im2col buffer
  return { x, w, y };
}

export function args(op: string, a: IArguments | unknown[], count: number): void {
  if (a.length < count) fail(op, `expected ${count} arguments, got ${a.length}`);
}

// ---- pooling ----
export const I32_MAX = 2147483647;
/**
 * A pool geometry: every field an integer in [0, 2^31), kernel/stride/dilation
 * >= 1 (those the kind reads), and oh/ow the output size the other fields give
 * (PyTorch's formula, ceil mode allowed: oh is then either). Returns the input
 * and output lengths nc·h·w and nc·oh·ow.
 */
export function poolGeom(op: string, v: unknown, kind: 'max' | 'avg' | 'adaptive'): [Pool2dGeom, number, number] {
  const g = obj(op, 'g', v) as unknown as Pool2dGeom;
  const keys = kind === 'adaptive' ? ['nc', 'h', 'w', 'oh', 'ow'] : kind === 'avg'
    ? ['nc', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw']
    : ['nc', 'h', 'w', 'oh', 'ow', 'kh', 'kw', 'sh', 'sw', 'ph', 'pw', 'dh', 'dw'];
  for (const key of keys) {
    const x = size(op, `g.${key}`, (g as unknown as Record<string, unknown>)[key]);
    if (x > I32_MAX) fail(op, `g.${key} must be < 2^31, got ${x}`);
    if (['kh', 'kw', 'sh', 'sw', 'dh', 'dw'].includes(key) && x < 1) fail(op, `g.${key} must be >= 1, got 0`);
  }
  const inLen = product(op, 'nc * h * w', product(op, 'nc * h', g.nc, g.h), g.w);
  const outLen = product(op, 'nc * oh * ow', product(op, 'nc * oh', g.nc, g.oh), g.ow);
  if (kind === 'adaptive') {
    if (inLen > 0 && (g.oh === 0 || g.ow === 0)) fail(op, `g.oh and g.ow must be >= 1 for a non-empty input, got ${g.oh} x ${g.ow}`);
    if (outLen > 0 && (g.h === 0 || g.w === 0)) fail(op, `g.h and g.w must be >= 1 for a non-empty output, got ${g.h} x ${g.w}`);
  } else {
    const d = kind === 'max' ? [g.dh, g.dw] : [1, 1];
    const want = (n: number, k: number, s: number, p: number, dil: number): [number, number] => {
      const span = n + 2 * p - dil * (k - 1) - 1;
      const fl = span < 0 ? 0 : Math.floor(span / s) + 1;
      let ce = span < 0 ? 0 : Math.ceil(span / s) + 1;
      if (ce > 0 && (ce - 1) * s >= n + p) ce--;
      return [fl, ce];
    };
    const [hf, hc] = want(g.h, g.kh, g.sh, g.ph, d[0]);
    const [wf, wc] = want(g.w, g.kw, g.sw, g.pw, d[1]);
    if ((g.oh !== hf && g.oh !== hc) || (g.ow !== wf && g.ow !== wc)) {
      fail(op, `g.oh x g.ow must be ${hf} x ${wf} (or ${hc} x ${wc} in ceil mode) for this geometry, got ${g.oh} x ${g.ow}`);
    }
    if (2 * g.ph > g.kh || 2 * g.pw > g.kw) fail(op, `padding ${g.ph} x ${g.pw} must be at most half the kernel ${g.kh} x ${g.kw}`);
  }
  return [g, inLen, outLen];
}
// ---- end pooling ----
// --- #11 cells ---
/**
 * A checked RnnGeometry (backend.ts): mode a known recurrence, n, t, h sizes with
 * n·t·h·6 <= 2^53 − 1 and each < 2^31, lengths an Int32Array [n] with values in [0, t]
 * or null, reverse a boolean. Returns the sizes the kernel's arrays must have.
 */
export function rnnSizes(op: string, g: unknown): { nth: number; nh: number; ntgh: number; ghh: number; gh: number; ws: number } {
  if (g === null || typeof g !== 'object') fail(op, `g must be an RnnGeometry object, got ${describe(g)}`);
  const o = g as RnnGeometry;
  enumName(op, 'g.mode', o.mode, RnnKind);
  const n = size(op, 'g.n', o.n), t = size(op, 'g.t', o.t), h = size(op, 'g.h', o.h);
  if (n > I32_MAX || t > I32_MAX || h > I32_MAX) fail(op, `g.n, g.t and g.h must be < 2^31, got ${n}, ${t}, ${h}`);
  const G = rnnGateCount(o.mode);
  if (n * t * h * 6 > Number.MAX_SAFE_INTEGER || G * h * h > Number.MAX_SAFE_INTEGER) fail(op, `sizes overflow: n = ${n}, t = ${t}, h = ${h}`);
  if (o.lengths !== null) {
    const L = i32(op, 'g.lengths', o.lengths, n);
    for (let i = 0; i < n; i++) if (L[i] < 0 || L[i] > t) fail(op, `g.lengths[${i}] must be in [0, ${t}], got ${L[i]}`);
  }
  bool(op, 'g.reverse', o.reverse);
  return { nth: n * t * h, nh: n * h, ntgh: n * t * G * h, ghh: G * h * h, gh: G * h, ws: rnnWorkspaceSize(o) };
}
// --- end #11 cells ---

// --- #11 natops ---
/** indexSelect's (and gather's) sizes: outer, n, inner, m non-negative integers; returns [outer·n·inner, outer·m·inner]. */
export function selectSizes(op: string, outer: unknown, n: unknown, inner: unknown, m: unknown): [number, number] {
  const o = size(op, 'outer', outer), nn = size(op, 'n', n), i = size(op, 'inner', inner), mm = size(op, 'm', m);
  if (nn > I32_MAX) fail(op, `n must be at most 2^31 - 1 (indices are int32), got ${nn}`);
  const xl = product(op, 'outer * n * inner', product(op, 'outer * n', o, nn), i);
  const yl = product(op, 'outer * m * inner', product(op, 'outer * m', o, mm), i);
  return [xl, yl];
}

/** Every index in [0, n): names the first one outside. */
export function selectIndices(op: string, idx: Int32Array, n: number): void {
  for (let i = 0; i < idx.length; i++) {
    const v = idx[i];
    if (v < 0 || v >= n) fail(op, `idx[${i}] = ${v} is out of range (expected an integer in [0, ${n}))`);
  }
}
// --- end #11 natops ---
