// Types of lib.mjs (the example is plain JavaScript so that `node examples/tree-rnn.mjs` runs as is).
import type * as Fathom from '../../lib/index.js';

type FathomModule = typeof Fathom;
type Tensor = Fathom.Tensor;

export type Op = '+' | '-' | '*';
export type Tree = { digit: number } | { op: Op; left: Tree; right: Tree };
export interface Dataset { trees: Tree[]; labels: number[]; depths: number[] }

export const OPS: readonly Op[];
export function makeRng(seed: number): () => number;
export function randomTree(rng: () => number, depth: number, ops?: readonly Op[]): Tree;
export function treeLabel(t: Tree): number;
export function treeDepth(t: Tree): number;
export function treeString(t: Tree): string;
export function symbolCounts(t: Tree, ops?: readonly Op[]): number[];
export function makeDataset(seed: number, n: number, depths?: readonly number[], ops?: readonly Op[]): Dataset;
export function majorityBaseline(trainLabels: readonly number[], testLabels: readonly number[]): { cls: number; accuracy: number };

export interface TreeRnn extends Omit<Fathom.nn.Module, "forward"> {
  readonly dim: number;
  readonly ops: Op[];
  leaf: Fathom.nn.Embedding;
  compose: Fathom.nn.Linear[];
  classifier: Fathom.nn.Linear;
  forwardTree(t: Tree): Tensor;
  forward(trees: Tree[]): Tensor;
}
export function createTreeRnn(fm: FathomModule, opts?: { dim?: number; ops?: readonly Op[]; seed?: number }): TreeRnn;
export function accuracy(fm: FathomModule, model: TreeRnn, trees: Tree[], labels: readonly number[], batch?: number): number;
export interface TrainResult { seconds: number; trees: number; treesPerSecond: number; losses: number[] }
export function trainTreeRnn(
  fm: FathomModule, model: TreeRnn, data: { trees: Tree[]; labels: number[] } | ((epoch: number) => { trees: Tree[]; labels: number[] }),
  opts?: { epochs?: number; batchSize?: number; lr?: number; seed?: number; onEpoch?: (epoch: number, loss: number) => void },
): TrainResult;
export function bagFeatures(fm: FathomModule, trees: Tree[], ops?: readonly Op[]): Tensor;
export function bagBaseline(
  fm: FathomModule, train: Dataset, test: { trees: Tree[]; labels: number[] },
  opts?: { hidden?: number; epochs?: number; lr?: number; seed?: number; ops?: readonly Op[] },
): Promise<{ model: Fathom.nn.Module; accuracy: (testIndices: number[]) => number }>;
