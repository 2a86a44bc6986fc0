// fathom train --prune: flags and the experiment, in-process on a 2-D set (about a second).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { UsageError } from '../../lib/cli/args.js';
import { train } from '../../lib/cli/train.js';
import { pruneTable } from '../../lib/cli/prune.js';
import { trainOptions } from '../helpers/cli.js';

const options = trainOptions;

let log: ReturnType<typeof vi.spyOn>;
const printed: string[] = [];
beforeAll(() => { log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { printed.push(a.join(' ')); }); });
afterAll(() => { log.mockRestore(); });

describe('fathom train --prune', () => {
  it('parses the list and --prune-epochs (default 2)', () => {
    expect(options('--prune', '0.5,0.8,0.9,0.95')).toMatchObject({ prune: [0.5, 0.8, 0.9, 0.95], pruneEpochs: 2 });
    expect(options('--prune', '0.5', '--prune-epochs', '1')).toMatchObject({ prune: [0.5], pruneEpochs: 1 });
    expect(options().prune).toBeUndefined();
  });

  it('refuses bad lists and flags where they do not apply', () => {
    expect(() => options('--prune', '0.5,1')).toThrow(/--prune must be comma-separated sparsities, each above 0 and below 1, none twice .*got '0\.5,1'/);
    expect(() => options('--prune', '0.5,0.5')).toThrow(UsageError);
    expect(() => options('--prune', 'half')).toThrow(/got 'half'/);
    expect(() => options('--prune-epochs', '2')).toThrow(/--prune-epochs sets the fine-tuning of --prune: give --prune too/);
    expect(() => options('--dataset', 'cars', '--prune', '0.5')).toThrow(/--prune prunes the classifiers .*not the regression set cars/);
    expect(() => options('--dataset', 'moons', '--model', 'perceptron', '--prune', '0.5')).toThrow(/not --model perceptron/);
    expect(() => options('--dataset', 'names', '--prune', '0.5')).toThrow(/--prune does not apply to the sequence task names/);
  });

  it('trains, prunes copies to each sparsity exactly, fine-tunes them and prints the table', async () => {
    printed.length = 0;
    const r = await train(options('--dataset', 'moons', '--epochs', '20', '--prune', '0.5,0.9', '--prune-epochs', '2'));
    const rows = r.prune!;
    expect(rows).toHaveLength(3);
    const total = rows[0].nonzero;
    expect(rows[0].sparsity).toBe(0);
    expect(rows[0].testAccuracy).toBe(r.testAccuracy);
    // Global magnitude pruning leaves exactly round((1 - s) · n) weights (fine-tuning keeps the masks).
    expect(rows[1].nonzero).toBe(total - Math.round(0.5 * total));
    expect(rows[2].nonzero).toBe(total - Math.round(0.9 * total));
    for (const row of rows) expect(row.testAccuracy).toBeGreaterThan(0.5);
    expect(printed.join('\n')).toContain(pruneTable(rows));
  });

  it('pruneTable: a markdown table, one row per sparsity', () => {
    expect(pruneTable([{ sparsity: 0.9, nonzero: 1234, prunedAccuracy: 0.5, testAccuracy: 0.97531, seconds: 1 }])).toBe(
      '| sparsity | nonzero weights | test accuracy, pruned | test accuracy, fine-tuned |\n|---:|---:|---:|---:|\n| 90.0 % | 1,234 | 50.00% | 97.53% |',
    );
  });
});
