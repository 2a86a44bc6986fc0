/** Awkward sizes for kernel tests: 0 where legal, 1, primes, tile edges ± 1. */

/** Lengths for element-wise kernels (AVX2 vectors hold 8 floats; threads split at ~32K). */
export const LENGTHS = [0, 1, 7, 8, 9, 15, 16, 17, 33, 257, 1000, 40_003];
/** Row counts and widths for row kernels (softmax, xent, argmax). */
export const ROWS = [1, 2, 7, 33];
export const COLS = [1, 7, 8, 9, 10, 33, 257];
/** GEMM dimensions: micro-tile edges (6 x 16 AVX2) ± 1, primes, one larger than a cache block. */
export const GEMM_DIMS: [number, number, number][] = [
  [1, 1, 1], [0, 5, 3], [4, 0, 3], [3, 4, 0], [5, 15, 7], [6, 16, 8], [7, 17, 9], [33, 7, 257],
  [12, 48, 1], [13, 33, 65], [64, 64, 64], [65, 31, 130], [100, 257, 33],
];
/** Pairs of shapes that broadcast, including scalars and rank differences. */
export const BROADCASTS: [number[], number[]][] = [
  [[7], [7]], [[7], [1]], [[], [5]], [[3, 1], [1, 4]], [[2, 3, 4], [4]], [[2, 3, 4], [3, 1]],
  [[33, 17], [17]], [[33, 17], [33, 1]], [[1, 9], [8, 1]], [[2, 1, 3], [2, 5, 1]], [[0, 3], [3]],
];
/** Shapes and axis lists for reductions. */
export const REDUCTIONS: [number[], number[] | undefined][] = [
  [[7], undefined], [[7], [0]], [[3, 5], [0]], [[3, 5], [1]], [[3, 5], undefined], [[33, 17], [1]],
  [[2, 3, 4], [0, 2]], [[2, 3, 4], [1]], [[257], [0]], [[4, 1, 6], [1]], [[2, 3], []],
];
/** Broadcasts large enough (~40K outputs) to cross the native thread split. */
export const BROADCASTS_LARGE: [number[], number[]][] = [
  [[200, 201], [201]], [[200, 201], [200, 1]], [[4, 1, 2003], [5, 1]],
];
/** Larger and degenerate reductions: thread splits, long rows and columns, empty reduced axes. */
export const REDUCTIONS_LARGE: [number[], number[] | undefined][] = [
  [[40_003], undefined], [[64, 625], [1]], [[625, 64], [0]], [[8, 50, 100], [0, 2]], [[0, 3], [0]], [[3, 0], [1]],
];
