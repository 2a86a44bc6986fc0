/** A long training run must not grow in memory: the tape is released after every step. */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import { losses, manualSeed, nn, optim, rand, tensor } from '../../lib/index.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function usage(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

it('memory stays flat over many training steps', () => {
  manualSeed(1);
  const model = new nn.Sequential(new nn.Linear(64, 128), new nn.ReLU(), new nn.Linear(128, 10));
  const opt = new optim.Adam(model.parameters(), { lr: 1e-3 });
  const x = rand([64, 64], { seed: 2 });
  const y = tensor(Int32Array.from({ length: 64 }, (_, i) => i % 10));
  const step = () => {
    const loss = losses.crossEntropy(model.forward(x), y);
    opt.zeroGrad();
    loss.backward();
    opt.step();
  };
  for (let i = 0; i < 200; i++) step(); // warm up: optimizer state, JIT
  const before = usage();
  for (let i = 0; i < 1500; i++) step();
  const after = usage();
  // One step allocates ~0.2 MB of tensors; 1500 leaked steps would be ~300 MB.
  expect(after - before).toBeLessThan(4 * 1024 * 1024);
});
