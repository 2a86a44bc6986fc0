/**
 * The targets of issue #9 for `fathom train`'s default recipes, run
 * in-process through the CLI's own code path (parseCommand → train), seeded:
 * iris ≥ 96 % test accuracy (mean over the first five splits: one split of
 * 30 flowers moves the score by 3.3 points), cars R² ≥ 0.80 on the held-out
 * split, spirals ≥ 98 % training accuracy. Each run takes about a second.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseCommand } from '../../lib/cli/args.js';
import { train } from '../../lib/cli/train.js';
import { trainOptions } from '../helpers/cli.js';

const options = trainOptions;

let log: ReturnType<typeof vi.spyOn>;
let err: ReturnType<typeof vi.spyOn>;
beforeAll(() => {
  log = vi.spyOn(console, 'log').mockImplementation(() => {});
  err = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
});
afterAll(() => {
  log.mockRestore();
  err.mockRestore();
});

describe('fathom train: the default recipes reach their targets', () => {
  it('iris: MLP 4-16-3 tanh, mean test accuracy over splits 1..5 >= 96 %', async () => {
    const accs: number[] = [];
    for (let seed = 1; seed <= 5; seed++) accs.push((await train(options('--dataset', 'iris', '--seed', String(seed)))).testAccuracy!);
    const mean = accs.reduce((a, b) => a + b) / accs.length;
    expect(mean, `per split: ${accs.join(', ')}`).toBeGreaterThanOrEqual(0.96);
    expect(Math.min(...accs)).toBeGreaterThanOrEqual(0.9);
  });

  it('cars: MLP 6-32-16-1 with early stopping, R² >= 0.80 on each held-out split 1..3', async () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = await train(options('--dataset', 'cars', '--seed', String(seed)));
      expect(r.testR2, `seed ${seed}`).toBeGreaterThanOrEqual(0.8);
      expect(r.testMae).toBeLessThan(3);
      expect(r.epochs).toBeLessThanOrEqual(300);
    }
  });

  it('spirals: MLP 2-64-64-K reaches >= 98 % training accuracy on 2 and 3 arms', async () => {
    for (const classes of ['2', '3']) {
      const r = await train(options('--dataset', 'spirals', '--classes', classes));
      expect(r.trainAccuracy, `${classes} arms`).toBeGreaterThanOrEqual(0.98);
      expect(r.testAccuracy).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('moons and circles: > 95 % test accuracy; the perceptron cannot separate moons', async () => {
    for (const d of ['moons', 'circles']) expect((await train(options('--dataset', d))).testAccuracy, d).toBeGreaterThan(0.95);
    const p = await train(options('--dataset', 'moons', '--model', 'perceptron', '--epochs', '50'));
    expect(p.perceptron!.converged).toBe(false);
    expect(p.perceptron!.epochs).toBe(50);
    expect(p.perceptron!.errors).toBeGreaterThan(0);
  });
});
