// fitInWorker's `nice` option (lib/serve/priority.ts): the training worker thread and the native kernel
// pool's threads run at that nice value while it trains; the calling thread keeps its own; bad values are
// refused before any worker starts.
import { describe, expect, it } from 'vitest';
import { fitInWorker, manualSeed, nn, randn, setBackend, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';
import { threadId } from '../../lib/serve/priority.js';
import { nices } from '../helpers/threads.js';


const data = (): { x: Tensor; y: Tensor } => {
  manualSeed(2);
  const x = randn([64, 4]);
  const y = new Tensor(Int32Array.from({ length: 64 }, (_, i) => (x.data[i * 4] > 0 ? 1 : 0)), [64]);
  return { x, y };
};

describe.runIf(process.platform === 'linux')('fitInWorker { nice } (Linux)', () => {
  it('lowers the training worker thread (and the kernel pool threads on native) while it trains; this thread keeps its own', async () => {
    const backend = nativeBinding() ? 'native' : 'ts';
    setBackend(backend);
    const mine = nices().get(threadId()!)!;
    // A process started at nice 16 or more (e.g. `nice -n 19 npm test`) cannot show a thread LOWERED to 16.
    const target = Math.max(16, Math.min(19, mine + 1));
    const at = (v: number): number => [...nices()].filter(([, n]) => n === v).length;
    const before = at(target);
    const { x, y } = data();
    manualSeed(3);
    const m = new nn.Sequential(new nn.Linear(4, 8), new nn.Tanh(), new nn.Linear(8, 2));
    const during: number[] = [];
    const r = await fitInWorker(m, x, y, {
      loss: 'crossEntropy', optimizer: 'sgd', lr: 0.1, epochs: 2, batchSize: 16, nice: target, idleTimeoutMs: 0,
      onEpochEnd: () => { during.push(at(target) - before); },
    });
    expect(r.history.epochs.length).toBe(2);
    const kernelThreads = backend === 'native' ? nativeBinding()!.poolThreadIds!().length : 0;
    // The worker thread is at `target` while it trains (the kernel pool's threads too, and they stay so: one pool per process).
    expect(during.length).toBe(2);
    if (mine < target) for (const d of during) expect(d).toBeGreaterThanOrEqual(1 + kernelThreads);
    expect(nices().get(threadId()!)).toBe(mine);
    expect(liveWorkers.size).toBe(0);
  });

  it('refuses a nice value outside 0..19, naming it, before a worker starts', async () => {
    const { x, y } = data();
    const m = new nn.Sequential(new nn.Linear(4, 2));
    for (const bad of [20, -1, 2.5]) {
      await expect(fitInWorker(m, x, y, { loss: 'crossEntropy', nice: bad })).rejects.toThrow(/^fathom\.fitInWorker: options\.nice must be an integer in 0\.\.19 \(a higher value is a lower priority\), got /);
    }
    await expect(fitInWorker(m, x, y, { loss: 'crossEntropy', nice: '3' as unknown as number })).rejects.toThrow(/^fathom\.fitInWorker: options\.nice must be a number, got the string "3"/);
    expect(liveWorkers.size).toBe(0);
  });
});
