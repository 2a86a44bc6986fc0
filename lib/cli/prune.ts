/**
 * `fathom train --prune 0.5,0.8,0.9,0.95`: after the dense model is trained,
 * each sparsity s gets a copy of it, pruned by weight magnitude
 * (prune.magnitude, global over the Linear and Conv weights, biases kept)
 * and fine-tuned for --prune-epochs epochs on the whole training set with
 * the masks held (the optimizer of the run, lr from --lr annealed to 0 by a
 * per-batch cosine). Prints a markdown table of test accuracy against
 * sparsity; the 0 % row is the dense model.
 */
import type { TrainOptions } from './args.js';
import type { Module } from '../layers/module.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Optimizer } from '../optimizers/optimizer.js';

type Fathom = typeof import('../index.js');

/** One row of the table. */
export interface PruneRow {
  /** Fraction of the Linear/Conv weights that are 0 (measured, prune.sparsity's global). */
  sparsity: number;
  /** Nonzero Linear/Conv weights left. */
  nonzero: number;
  /** Test accuracy right after pruning, before fine-tuning. */
  prunedAccuracy: number;
  /** Test accuracy after fine-tuning (the dense model's on the 0 row). */
  testAccuracy: number;
  /** Seconds of fine-tuning (0 on the dense row). */
  seconds: number;
}

export interface PruneData {
  xTrain: Tensor;
  yTrain: Tensor;
  xTest: Tensor;
  yTest: Tensor;
}

/**
 * Runs the experiment and prints the table.
 * @param build makes a fresh model of the trained one's architecture (its weights are overwritten).
 * @param makeOptimizer the run's optimizer over the given parameters.
 * @returns the rows, dense first.
 */
export async function pruneExperiment(
  f: Fathom, o: TrainOptions, model: Module, d: PruneData, build: () => Module, makeOptimizer: (params: Tensor[]) => Optimizer,
): Promise<PruneRow[]> {
  const levels = o.prune ?? [];
  const epochs = o.pruneEpochs ?? 2;
  const accuracy = async (m: Module): Promise<number> => (await m.evaluate(d.xTest, d.yTest)).accuracy ?? NaN;
  const dense = f.prune.sparsity(model);
  const denseAcc = await accuracy(model);
  const rows: PruneRow[] = [{ sparsity: dense.global, nonzero: dense.total - dense.zeros, prunedAccuracy: denseAcc, testAccuracy: denseAcc, seconds: 0 }];
  console.log(`pruning: ${levels.length} sparsit${levels.length === 1 ? 'y' : 'ies'}, each a copy of the trained model pruned by magnitude (global) and fine-tuned ${epochs} epoch${epochs === 1 ? '' : 's'} (${o.optimizer}, lr ${o.lr} cosine to 0)`);
  for (const s of levels) {
    const copy = build();
    copy.loadStateDict(model.stateDict());
    f.prune.magnitude(copy, { sparsity: s });
    const prunedAccuracy = await accuracy(copy);
    const opt = makeOptimizer(copy.parameters());
    const steps = Math.ceil(d.xTrain.shape[0] / o.batchSize);
    const sched = new f.optim.lrScheduler.CosineAnnealingLR(opt, { tMax: epochs * steps });
    const t0 = performance.now();
    await copy.fit(d.xTrain, d.yTrain, {
      loss: 'crossEntropy', optimizer: opt, epochs, batchSize: o.batchSize, seed: o.seed, verbose: 0,
      lrScheduler: sched, lrSchedulerInterval: 'batch',
    });
    const seconds = (performance.now() - t0) / 1000;
    const r = f.prune.sparsity(copy);
    const row = { sparsity: r.global, nonzero: r.total - r.zeros, prunedAccuracy, testAccuracy: await accuracy(copy), seconds };
    rows.push(row);
    console.log(`  sparsity ${(s * 100).toFixed(1)}%: test accuracy ${pct(prunedAccuracy)} pruned, ${pct(row.testAccuracy)} after fine-tuning (${seconds.toFixed(1)} s)`);
  }
  console.log('');
  console.log(pruneTable(rows));
  return rows;
}

const pct = (v: number): string => `${(v * 100).toFixed(2)}%`;

/** The markdown table of the rows. */
export function pruneTable(rows: readonly PruneRow[]): string {
  const lines = [
    '| sparsity | nonzero weights | test accuracy, pruned | test accuracy, fine-tuned |',
    '|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    lines.push(`| ${(r.sparsity * 100).toFixed(1)} % | ${r.nonzero.toLocaleString('en-US')} | ${pct(r.prunedAccuracy)} | ${pct(r.testAccuracy)} |`);
  }
  return lines.join('\n');
}
