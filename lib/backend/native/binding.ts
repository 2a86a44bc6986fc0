/**
 * The whole native surface, declared once, and the loader. The addon is
 * found by node-gyp-build: build/Release first (a local compile), then
 * prebuilds/<platform>-<arch> (what ships in the npm package).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

export interface NativeInfo {
  isa: string;
  /** Non-empty when FATHOM_ISA named an ISA this CPU or binary cannot run. */
  isaError: string;
  threads: number;
  maxThreads: number;
  /** ISA variants compiled into this binary that this CPU can run. */
  isas: string[];
  cpu: { avx2: boolean; avx512: boolean; neon: boolean };
  /** #13 infer: the GEMM driver the active table runs, e.g. 'avx2 6x16' (absent in addons built before it). */
  gemm?: string;
}

export interface NativeBinding {
  info(): NativeInfo;
  setNumThreads(n: number): number;
  /** #13 rawinfer: jobs handed to the thread pool's workers so far (0 growth: work stayed on the calling thread). Absent in addons built before #13. */
  poolJobsStarted?(): number;
  /** #13: the OS thread ids of the kernel pool's worker threads (Linux; [] elsewhere or with one thread). Absent in older addons. */
  poolThreadIds?(): number[];
  /** Caps the kernel threads of the calling thread's own calls (0: the process's setting); returns the count now in effect for it. */
  setThreadNumThreads?(n: number): number;
  /** The unary op list's names in id order (native/kernels/unary_ops.h). */
  unaryOpNames(): string[];
  unary(op: number, x: Float32Array, y: Float32Array, p: number, q: number): void;
  unaryBackward(op: number, x: Float32Array, y: Float32Array, dy: Float32Array, dx: Float32Array, p: number, q: number): void;
  binary(op: number, a: Float32Array, b: Float32Array, out: Float32Array): void;
  binaryBroadcast(
    op: number, shape: readonly number[], a: Float32Array, aStrides: readonly number[],
    b: Float32Array, bStrides: readonly number[], out: Float32Array,
  ): void;
  reduce(op: number, shape: readonly number[], x: Float32Array, outStrides: readonly number[], out: Float32Array): void;
  softmax(n: number, d: number, x: Float32Array, y: Float32Array, log: boolean): void;
  softmaxBackward(n: number, d: number, y: Float32Array, dy: Float32Array, dx: Float32Array, log: boolean): void;
  xentLabels(n: number, d: number, logits: Float32Array, labels: Int32Array, prob: Float32Array): number;
  xentLabelsBackward(n: number, d: number, prob: Float32Array, labels: Int32Array, g: number, dlogits: Float32Array): void;
  xentProbs(n: number, d: number, logits: Float32Array, target: Float32Array, prob: Float32Array): number;
  xentProbsBackward(n: number, d: number, prob: Float32Array, target: Float32Array, g: number, dlogits: Float32Array): void;
  mse(a: Float32Array, b: Float32Array): number;
  mseBackward(a: Float32Array, b: Float32Array, g: number, da: Float32Array): void;
  transpose2d(n: number, d: number, x: Float32Array, y: Float32Array): void;
  argmax(n: number, d: number, x: Float32Array, out: Int32Array): void;
  fill(y: Float32Array, value: number): void;
  copy(x: Float32Array, y: Float32Array): void;
  randUniform(y: Float32Array, seed: bigint, offset: bigint, lo: number, hi: number): void;
  randNormal(y: Float32Array, seed: bigint, offset: bigint, mean: number, std: number): void;
  gemm(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): void;
  /** Runs on a libuv worker thread on copies of the operands; `c` receives the result when it settles. */
  gemmAsync(
    transA: boolean, transB: boolean, m: number, n: number, k: number,
    alpha: number, a: Float32Array, b: Float32Array, beta: number, c: Float32Array,
  ): Promise<void>;
  biasAct(n: number, d: number, y: Float32Array, bias: Float32Array | null, act: number): void;
  // --- #13 rawinfer --- (native/kernels/ops.h linear_fwd)
  linearForward(n: number, out: number, inF: number, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: number, y: Float32Array): void;
  // --- end #13 rawinfer ---
  // --- #13 infer --- (native/kernels/ops.h linear_chain; absent from an addon built before it)
  /** linearChain(n, x, y, in, then per layer: out, act, w, bias | null): positional, no arrays to walk. */
  linearChain?(n: number, x: Float32Array, y: Float32Array, inF: number, ...layers: (number | Float32Array | null)[]): void;
  // --- end #13 infer ---
  maxout(n: number, k: number, x: Float32Array, y: Float32Array): void;
  maxoutBackward(n: number, k: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  biasActBackward(
    n: number, d: number, y: Float32Array, dy: Float32Array, dz: Float32Array, dbias: Float32Array | null, act: number,
  ): void;
  sgdStep(
    w: Float32Array, g: Float32Array, v: Float32Array, lr: number, momentum: number, dampening: number,
    weightDecay: number, nesterov: boolean, first: boolean,
  ): void;
  optimStep(
    kind: number, w: Float32Array, g: Float32Array, s0: Float32Array | null, s1: Float32Array | null, s2: Float32Array | null,
    step: number, lr: number, weightDecay: number, eps: number, beta1: number, beta2: number, alpha: number, rho: number,
    momentum: number, lrDecay: number, decoupled: boolean, amsgrad: boolean, centered: boolean,
  ): void;
  dropout(x: Float32Array, y: Float32Array, mask: Float32Array, seed: bigint, offset: bigint, p: number, scale: number): void;
  // normalisation
  batchNormStats(n: number, c: number, s: number, x: Float32Array, mean: Float32Array, varOut: Float32Array): void;
  batchNormForward(
    n: number, c: number, s: number, x: Float32Array, mean: Float32Array, variance: Float32Array, eps: number,
    weight: Float32Array | null, bias: Float32Array | null, y: Float32Array,
  ): void;
  batchNormBackward(
    n: number, c: number, s: number, x: Float32Array, dy: Float32Array, mean: Float32Array, variance: Float32Array,
    eps: number, weight: Float32Array | null, training: boolean,
    dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  ): void;
  layerNormForward(
    r: number, d: number, x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, eps: number,
    y: Float32Array, mean: Float32Array, rstd: Float32Array,
  ): void;
  layerNormBackward(
    r: number, d: number, x: Float32Array, dy: Float32Array, mean: Float32Array, rstd: Float32Array,
    weight: Float32Array | null, dx: Float32Array | null, dweight: Float32Array | null, dbias: Float32Array | null,
  ): void;
  // conv: geom = Int32Array(16), CONV_GEOMETRY_FIELDS order
  conv2d(geom: Int32Array, x: Float32Array, w: Float32Array, bias: Float32Array | null, act: number, y: Float32Array): void;
  conv2dBackwardData(geom: Int32Array, dy: Float32Array, w: Float32Array, dx: Float32Array): void;
  conv2dBackwardWeight(geom: Int32Array, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  // ---- pooling: geometry nc, h, w, oh, ow, kh, kw, sh, sw, ph, pw[, dh, dw] ----
  maxPool2d(nc: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, dh: number, dw: number, x: Float32Array, y: Float32Array): void;
  maxPool2dBackward(nc: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, dh: number, dw: number, x: Float32Array, dy: Float32Array, dx: Float32Array): void;
  avgPool2d(nc: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, countIncludePad: boolean, divisor: number, x: Float32Array, y: Float32Array): void;
  avgPool2dBackward(nc: number, h: number, w: number, oh: number, ow: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, countIncludePad: boolean, divisor: number, dy: Float32Array, dx: Float32Array): void;
  adaptiveAvgPool2d(nc: number, h: number, w: number, oh: number, ow: number, x: Float32Array, y: Float32Array): void;
  adaptiveAvgPool2dBackward(nc: number, h: number, w: number, oh: number, ow: number, dy: Float32Array, dx: Float32Array): void;
  // ---- end pooling ----
  // --- #11 cells --- (native/binding/rnn.cc; mode = RnnKind id)
  rnnForward(mode: number, n: number, t: number, h: number, lengths: Int32Array | null, reverse: boolean,
    xProj: Float32Array, h0: Float32Array, c0: Float32Array | null, wHh: Float32Array, bHh: Float32Array | null,
    output: Float32Array, hN: Float32Array, cN: Float32Array | null, ws: Float32Array | null): void;
  rnnBackward(mode: number, n: number, t: number, h: number, lengths: Int32Array | null, reverse: boolean,
    wHh: Float32Array, ws: Float32Array, c0: Float32Array | null, dOutput: Float32Array, dhN: Float32Array, dcN: Float32Array | null,
    dxProj: Float32Array, dh0: Float32Array, dc0: Float32Array | null, dwHh: Float32Array, dbHh: Float32Array | null): void;
  // --- end #11 cells ---
  // --- #11 natops --- (native/binding/tensorops.cc)
  indexSelect(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void;
  indexSelectBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void;
  gather(outer: number, n: number, inner: number, x: Float32Array, idx: Int32Array, m: number, y: Float32Array): void;
  gatherBackward(outer: number, n: number, inner: number, dy: Float32Array, idx: Int32Array, m: number, dx: Float32Array): void;
  cumsum(outer: number, n: number, inner: number, x: Float32Array, reverse: boolean, y: Float32Array): void;
  whereBroadcast(shape: readonly number[], cond: Float32Array, condStrides: readonly number[], a: Float32Array,
    aStrides: readonly number[], b: Float32Array, bStrides: readonly number[], out: Float32Array): void;
  // --- end #11 natops ---
}

/** The package root: this file is lib/backend/native/ (source) or dist/backend/native/ (compiled). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export type LoadResult = { binding: NativeBinding; path: string } | { binding: null; error: string };

/** Loads the addon; never throws. */
export function loadBinding(): LoadResult {
  const require = createRequire(import.meta.url);
  let path = '';
  try {
    const gypBuild = require('node-gyp-build') as { resolve(dir: string): string };
    path = gypBuild.resolve(packageRoot);
    return { binding: require(path) as NativeBinding, path };
  } catch (e) {
    const first = String((e as Error).message).split('\n')[0];
    return { binding: null, error: path ? `${path} failed to load: ${first}` : first };
  }
}
