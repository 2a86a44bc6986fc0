// Found by trying `fathom train --task gan` as a new user (helper fu2, issue #12): `--out /proc/x`
// hung forever (Node's mkdir recursive loops where mkdir answers ENOENT under an existing parent);
// `--out` naming a file; `--model dcgan` without `--task gan`. No computing: no backend to vary.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCommand, UsageError } from '../../lib/cli/args.js';
import { trainGan } from '../../lib/cli/gan.js';
import { makeFolder } from '../../lib/models/folder.js';
import { callbacks, nn, randn } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'fathom-fu2-gan-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('fathom train --task gan: the --out folder', () => {
  it('makeFolder makes every missing level, accepts an existing folder, refuses a file', async () => {
    const deep = join(dir, 'a', 'b', 'c');
    await makeFolder(deep);
    expect(statSync(deep).isDirectory()).toBe(true);
    await makeFolder(deep);
    const file = join(dir, 'file.png');
    writeFileSync(file, 'x');
    await expect(makeFolder(file)).rejects.toThrow(`${file} exists and is not a folder`);
    await expect(makeFolder(join(file, 'below'))).rejects.toThrow();
  });

  it.runIf(existsSync('/proc/self'))('--out under /proc is refused at once (it hung before)', async () => {
    await expect(makeFolder('/proc/fathom-no-such/x')).rejects.toThrow(/^cannot create the folder \/proc\/fathom-no-such/);
    await expect(trainGan({ model: 'mlp', epochs: 1, batchSize: 64, lr: 2e-4, latent: 64, train: 64, out: '/proc/fathom-no-such', seed: 1 }))
      .rejects.toThrow(/^--out: cannot create the folder \/proc\/fathom-no-such \(its parent exists, mkdir answers ENOENT\); nothing was trained$/);
  });

  it.runIf(existsSync('/proc/self'))('ModelCheckpoint into a folder under /proc: fit rejects, naming the path (it hung before)', async () => {
    const m = new nn.Linear(2, 1);
    await expect(m.fit(randn([4, 2]), randn([4, 1]), {
      loss: 'mse', verbose: 0, callbacks: new callbacks.ModelCheckpoint({ path: '/proc/fathom-no-such/m.safetensors', monitor: 'loss' }),
    })).rejects.toThrow(/^fathom.callbacks.ModelCheckpoint: cannot save to \/proc\/fathom-no-such\/m.safetensors: cannot create the folder \/proc\/fathom-no-such/);
  });

  it('--out naming a file: refused before training, as not a folder', async () => {
    const file = join(dir, 'grid.png');
    writeFileSync(file, 'x');
    await expect(trainGan({ model: 'mlp', epochs: 1, batchSize: 64, lr: 2e-4, latent: 64, train: 64, out: file, seed: 1 }))
      .rejects.toThrow(`--out: ${file} exists and is not a folder; nothing was trained`);
  });

  it('--model dcgan without --task gan points to --task gan', () => {
    expect(() => parseCommand(['train', '--model', 'dcgan'])).toThrow(UsageError);
    expect(() => parseCommand(['train', '--model', 'dcgan'])).toThrow(/^--model dcgan is a model of --task gan: fathom train --task gan --model dcgan$/);
    expect(parseCommand(['train', '--task', 'gan', '--model', 'dcgan']).kind).toBe('gan');
  });
});
