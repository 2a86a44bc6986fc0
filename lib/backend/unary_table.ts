/**
 * THE table of element-wise unary ops on the TypeScript side: one entry per
 * op, in the order of the native list (native/kernels/unary_ops.h: an op's id
 * is its position; the parity suite checks the addon's unaryOpNames() against
 * these keys). From this table come:
 *   - the TS kernel (lib/backend/ts/kernels/elementwise.ts: f and df per element),
 *   - the Unary name → id map and the UnaryOp type (lib/backend/backend.ts),
 *   - the exported op and its argument checks (lib/ops/elementwise.ts: `unaryFunction(name)`),
 *   - the Tensor method (lib/tensor/tensor.ts: generated for every public entry),
 *   - the gradient rule (lib/autograd/gradients.ts: dx = unaryBackward),
 *   - the parity cases and tolerances (test/backend/parity.test.ts) and the
 *     finite-difference gradient checks (test/ops/gradcheck.test.ts).
 *
 * Arithmetic is float64, rounded once when stored into the Float32Array (what
 * the native reference computes in double). The semantics of each op are
 * pinned in unary_ops.h; f and df here must agree with it.
 */
import { erfc, sigmoid } from './ts/kernels/special.js';

/** A parity tolerance: |native - ts| <= atol + rtol * |ts|. */
export interface UnaryTolerance {
  atol: number;
  rtol: number;
}

/** One user-facing scalar parameter of an op (the kernel's p, then q). */
export interface UnaryParam {
  /** PyTorch's name, camelCase (also the options key when `options` is set). */
  readonly name: string;
  /** The value when omitted; undefined: the argument is required. */
  readonly default?: number;
  /** Refuses a value the op cannot use: returns what was expected (e.g. 'non-zero'), or null. */
  readonly refuse?: (v: number) => string | null;
}

/** One parameter set and input range exercised by the tests. */
export interface UnaryCase {
  /** p and q (default: the parameters' defaults, else 0). */
  readonly p?: number;
  readonly q?: number;
  /** Inputs are drawn from [lo, hi). */
  readonly lo: number;
  readonly hi: number;
  /** Parity: exact +0 and -0 sprinkled in. Gradient check: inputs kept >= 0.2 away from 0 (kinks). */
  readonly zeros?: boolean;
  readonly away?: boolean;
}

export interface UnaryEntry {
  /** y = f(x) in float64. */
  readonly f: (x: number, p: number, q: number) => number;
  /** dx = dy · f'(x) in float64; y = f(x) as stored (float32). */
  readonly df: (x: number, y: number, dy: number, p: number, q: number) => number;
  /** The op's parameters, in kernel order (p, q). */
  readonly params?: readonly UnaryParam[];
  /** The parameters come as an options object (`softplus(x, { beta, threshold })`), not positionally. */
  readonly options?: boolean;
  /**
   * No function or Tensor method generated from the entry: gelu and geluTanh are both
   * reached through the hand-written gelu(x, { approximate }) (lib/ops/elementwise.ts).
   */
  readonly internal?: boolean;
  readonly test: {
    /** native vs TS, forward and backward. */
    readonly fwd: UnaryTolerance;
    readonly bwd: UnaryTolerance;
    /** Parity cases (random inputs at every test length). */
    readonly parity: readonly UnaryCase[];
    /** (p, q) pairs run on the special values (0, -0, ±Inf, NaN, denormals, overflow edges). */
    readonly specials?: readonly (readonly [number, number])[];
    /** Finite-difference gradient checks. */
    readonly grad: readonly UnaryCase[];
  };
}

const EXACT: UnaryTolerance = { atol: 0, rtol: 0 };
const R = (rtol: number, atol = 0): UnaryTolerance => ({ atol, rtol });
const relu = (x: number): number => (x < 0 ? 0 : x);

/** sqrt(2/pi) and the cubic coefficient of GELU's tanh form. */
const GELU_K = 0.7978845608028654;
const GELU_C = 0.044715;
const INV_SQRT2 = 0.7071067811865476;
const INV_SQRT_2PI = 0.3989422804014327;

/** log(1 + e^z) without overflow. */
const softplusLog = (z: number): number => Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)));

const nonZero = (v: number): string | null => (v === 0 ? 'non-zero' : null);

export const UNARY_OPS = {
  neg: {
    f: (x) => -x,
    df: (_x, _y, dy) => -dy,
    test: { fwd: EXACT, bwd: EXACT, parity: [{ lo: -3, hi: 3, zeros: true }], grad: [{ lo: -1, hi: 1 }] },
  },
  exp: {
    f: (x) => Math.exp(x),
    df: (_x, y, dy) => dy * y,
    test: { fwd: R(2e-6), bwd: R(1e-6), parity: [{ lo: -10, hi: 10, zeros: true }], grad: [{ lo: -1, hi: 1 }] },
  },
  log: {
    f: (x) => Math.log(x),
    df: (x, _y, dy) => dy / x,
    // log near 1 is near 0: an absolute floor
    test: { fwd: R(2e-6, 1e-7), bwd: R(1e-6), parity: [{ lo: 1e-3, hi: 10 }], grad: [{ lo: 0.5, hi: 2 }] },
  },
  sqrt: {
    f: (x) => Math.sqrt(x),
    df: (x, _y, dy) => dy * (0.5 / Math.sqrt(x)),
    test: { fwd: R(1e-6), bwd: R(2e-6), parity: [{ lo: 0, hi: 10, zeros: true }], grad: [{ lo: 0.5, hi: 2 }] },
  },
  /** x^p; pow' = p x^(p-1), and 0 when p = 0 (x^0 is constant; PyTorch agrees). */
  pow: {
    f: (x, p) => Math.pow(x, p),
    df: (x, _y, dy, p) => (p === 0 ? 0 : dy * (p * Math.pow(x, p - 1))),
    params: [{ name: 'exponent p' }],
    test: {
      fwd: R(5e-6), bwd: R(5e-6),
      // integer p also on negative bases
      parity: [
        { p: 2, lo: -3, hi: 3 }, { p: 3, lo: -3, hi: 3 }, { p: 0, lo: -3, hi: 3 }, { p: 1, lo: -3, hi: 3 },
        { p: 0.5, lo: 0, hi: 10 }, { p: -1.5, lo: 1e-2, hi: 4 }, { p: 1.7, lo: 1e-3, hi: 4 },
      ],
      specials: [[2, 0], [3, 0], [0.5, 0], [-1, 0], [0, 0], [-2.5, 0]],
      grad: [{ p: 3, lo: -1, hi: 1 }, { p: -0.5, lo: 0.5, hi: 2 }],
    },
  },
  /** x < 0 ? 0 : x (NaN stays NaN, relu(-0) = -0); relu' = x > 0 ? 1 : 0 (a select). */
  relu: {
    f: relu,
    df: (x, _y, dy) => (x > 0 ? dy : 0),
    test: { fwd: EXACT, bwd: EXACT, parity: [{ lo: -3, hi: 3, zeros: true }], grad: [{ lo: -1, hi: 1, away: true }] },
  },
  /** The stable logistic; sigmoid' = y (1 - y). */
  sigmoid: {
    f: sigmoid,
    df: (_x, s, dy) => dy * (s * (1 - s)),
    test: { fwd: R(2e-6, 1e-7), bwd: R(1e-6, 1e-7), parity: [{ lo: -10, hi: 10, zeros: true }], grad: [{ lo: -4, hi: 4 }] },
  },
  /** tanh' = 1 - y² (cancels near |y| = 1: an absolute floor). */
  tanh: {
    f: (x) => Math.tanh(x),
    df: (_x, t, dy) => dy * (1 - t * t),
    test: { fwd: R(5e-6, 1e-7), bwd: R(1e-6, 1e-7), parity: [{ lo: -5, hi: 5, zeros: true }], grad: [{ lo: -2, hi: 2 }] },
  },
  /** Math.sign: sign(±0) = ±0, sign(NaN) = NaN; its gradient is zero everywhere (as in PyTorch and tfjs). */
  sign: {
    f: (x) => Math.sign(x),
    df: () => 0,
    test: { fwd: EXACT, bwd: EXACT, parity: [{ lo: -3, hi: 3, zeros: true }], grad: [{ lo: -1, hi: 1, away: true }] },
  },
  /** abs' = sign(x) (abs'(0) = 0). */
  abs: {
    f: (x) => Math.abs(x),
    df: (x, _y, dy) => dy * Math.sign(x),
    test: { fwd: EXACT, bwd: EXACT, parity: [{ lo: -3, hi: 3, zeros: true }], grad: [{ lo: -1, hi: 1, away: true }] },
  },
  square: {
    f: (x) => x * x,
    df: (x, _y, dy) => dy * (2 * x),
    test: { fwd: R(1e-6), bwd: R(1e-6), parity: [{ lo: -3, hi: 3, zeros: true }], grad: [{ lo: -1, hi: 1 }] },
  },
  /** PyTorch leaky_relu: x > 0 ? x : negativeSlope · x; backward x > 0 ? dy : negativeSlope · dy. */
  leakyRelu: {
    f: (x, p) => (x > 0 ? x : x * p),
    df: (x, _y, dy, p) => (x > 0 ? dy : dy * p),
    params: [{ name: 'negativeSlope', default: 0.01 }],
    test: {
      fwd: EXACT, bwd: EXACT,
      parity: [{ p: 0.01, lo: -3, hi: 3, zeros: true }, { p: 0.2, lo: -3, hi: 3 }, { p: -0.5, lo: -3, hi: 3 }],
      specials: [[0.01, 0], [0.3, 0]],
      grad: [{ p: 0.01, lo: -1, hi: 1, away: true }, { p: 0.3, lo: -1, hi: 1, away: true }],
    },
  },
  /** PyTorch elu: x <= 0 ? alpha (e^x - 1) : x; backward from x: x <= 0 ? alpha e^x dy : dy. */
  elu: {
    f: (x, p) => (x <= 0 ? p * Math.expm1(x) : x),
    df: (x, _y, dy, p) => (x <= 0 ? dy * p * Math.exp(x) : dy),
    params: [{ name: 'alpha', default: 1 }],
    test: {
      fwd: R(1e-6, 1e-30), bwd: R(1e-6, 1e-30),
      parity: [{ p: 1, lo: -6, hi: 3, zeros: true }, { p: 0.5, lo: -6, hi: 3 }, { p: 2.5, lo: -3, hi: 3 }],
      specials: [[1, 0], [0.5, 0]],
      grad: [{ p: 1, lo: -2, hi: 2, away: true }, { p: 0.5, lo: -2, hi: 2, away: true }],
    },
  },
  /**
   * Exact GELU, x Φ(x) = x (1 + erf(x/√2)) / 2 (PyTorch approximate='none'), with
   * Φ(x) = erfc(-x/√2) / 2 (no cancellation for x << 0); gelu' = Φ(x) + x φ(x).
   */
  gelu: {
    f: (x) => 0.5 * x * erfc(-x * INV_SQRT2),
    df: (x, _y, dy) => dy * (0.5 * erfc(-x * INV_SQRT2) + x * INV_SQRT_2PI * Math.exp(-0.5 * x * x)),
    internal: true,
    test: {
      // AVX2: Φ by a Chebyshev erfc fit (1.2e-7) and v_exp, whose argument -x²/2 carries a
      // relative error growing in the left tail: <= 3e-6 while |y| > 1e-8; dx crosses 0 at -0.75
      fwd: R(3e-6, 1e-8), bwd: R(3e-6, 1e-7),
      parity: [{ lo: -6, hi: 6, zeros: true }, { lo: -12, hi: -4 }],
      grad: [{ lo: -3, hi: 3 }],
    },
  },
  /**
   * GELU, tanh form (PyTorch approximate='tanh'): x/2 (1 + tanh(u)), u = √(2/π)(x + 0.044715 x³),
   * computed as x·sigmoid(2u); derivative s + 2 x s (1 - s) u', s = sigmoid(2u).
   */
  geluTanh: {
    f: (x) => x * sigmoid(2 * GELU_K * (x + GELU_C * x * x * x)),
    df: (x, _y, dy) => {
      const s = sigmoid(2 * GELU_K * (x + GELU_C * x * x * x));
      const ss = s * (1 - s); // 0 for |x| > ~10 and ±Inf: the second term's limit is 0 (not 0 · Inf)
      return dy * (s + (ss === 0 ? 0 : 2 * x * ss * GELU_K * (1 + 3 * GELU_C * x * x)));
    },
    internal: true,
    test: {
      // AVX2: x·sigmoid(2u) with 2u in float, whose relative error grows with |u|: <= 3e-6
      // while |y| > 1e-8, an absolute 1e-8 below (x < -4); dx crosses 0 at x = -0.75
      fwd: R(3e-6, 1e-8), bwd: R(3e-6, 1e-7),
      parity: [{ lo: -6, hi: 6, zeros: true }, { lo: -12, hi: -4 }],
      grad: [{ lo: -3, hi: 3 }],
    },
  },
  /**
   * PyTorch softplus: beta·x > threshold ? x : log(1 + e^(beta·x)) / beta (the log term in the
   * stable form, so a threshold past 88 never overflows); backward dy · sigmoid(beta·x), dy
   * in the linear region.
   */
  softplus: {
    f: (x, p, q) => (p * x > q ? x : softplusLog(p * x) / p),
    df: (x, _y, dy, p, q) => (p * x > q ? dy : dy * sigmoid(p * x)),
    params: [{ name: 'beta', default: 1, refuse: nonZero }, { name: 'threshold', default: 20 }],
    options: true,
    test: {
      fwd: R(1e-6, 1e-30), bwd: R(1e-6, 1e-30),
      parity: [{ p: 1, q: 20, lo: -10, hi: 25, zeros: true }, { p: 2, q: 1, lo: -3, hi: 3 }, { p: 0.5, q: 100, lo: -100, hi: 300 }],
      specials: [[1, 20], [2, 1]],
      // beta 2, threshold 1: the curve below x = 0.5, the linear region above (softplus jumps
      // there, as PyTorch's does: the checks keep their ±h steps on one side)
      grad: [
        { p: 1, q: 20, lo: -3, hi: 3 }, { p: 2, q: 1, lo: -2, hi: 0.45 }, { p: 2, q: 1, lo: 0.55, hi: 2 },
        { p: 1, q: 20, lo: 21, hi: 24 },
      ],
    },
  },
  /** SiLU (swish), x·sigmoid(x); silu' = s (1 + x (1 - s)). */
  silu: {
    f: (x) => x * sigmoid(x),
    df: (x, _y, dy) => {
      const s = sigmoid(x);
      return dy * s * (1 + x * (1 - s));
    },
    test: {
      // AVX2 uses v_sigmoid (<= 4 ulp); dx crosses 0 at x = -1.28: an absolute floor
      fwd: R(1e-6, 1e-37), bwd: R(1e-6, 1e-7),
      parity: [{ lo: -8, hi: 8, zeros: true }],
      grad: [{ lo: -3, hi: 3 }],
    },
  },
} as const satisfies Record<string, UnaryEntry>;

export type UnaryOp = keyof typeof UNARY_OPS;

/** The ops in id order (the native enum's order). */
export const UNARY_OP_NAMES = Object.keys(UNARY_OPS) as UnaryOp[];

/** The entry of an op, seen through the common interface. */
export function unaryEntry(op: UnaryOp): UnaryEntry {
  return UNARY_OPS[op];
}

/** The ops with an exported function and a Tensor method of their own. */
export type PublicUnaryOp = { [K in UnaryOp]: (typeof UNARY_OPS)[K] extends { internal: true } ? never : K }[UnaryOp];
export const PUBLIC_UNARY_OPS = UNARY_OP_NAMES.filter((op) => !unaryEntry(op).internal) as PublicUnaryOp[];

type ParamNames<E> = E extends { params: readonly (infer P)[] } ? (P extends { name: infer N extends string } ? N : never) : never;

/** The arguments after x that an op's exported function takes, typed from its entry. */
export type UnaryArgs<E> = E extends { options: true }
  ? [options?: { [N in ParamNames<E>]?: number }]
  : E extends { params: readonly [{ default: number }] }
    ? [p?: number]
    : E extends { params: readonly [unknown] }
      ? [p: number]
      : [];
