// The kernel pool's threads (one pool per process) are lowered by the first InferencePool or fitInWorker
// given `nice` (lib/serve/priority.ts): a training run beside a server (fitInWorker at a higher nice value
// than the server's InferencePool) leaves them at the pool's value, instead of putting every later forward
// pass of the server at the training's priority for good (a priority is never raised back). Nice values are
// relative to this process's own, so the test holds under `nice -n 5 npx vitest`. Linux, native backend.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fitInWorker, manualSeed, nn, randn, serve, setBackend, setNumThreads, Tensor } from '../../lib/index.js';
import { nativeBinding } from '../../lib/backend/index.js';
import { liveWorkers } from '../../lib/serve/fit.js';

/** A thread's nice value, from /proc (field 19 of its stat). */
function niceOf(tid: number): number {
  const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
  return Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[16]);
}
const base = process.platform === 'linux' ? niceOf(process.pid) : 0;

describe.runIf(process.platform === 'linux' && nativeBinding() !== undefined && base + 6 <= 19)('kernel threads: the first nice holds (Linux, native)', () => {
  it('an InferencePool at nice +2, then fitInWorker at +6: the kernel threads stay at +2', async () => {
    setBackend('native');
    setNumThreads(2); // at least one pool thread besides the caller
    manualSeed(4);
    const m = new nn.Sequential(new nn.Linear(64, 64), new nn.ReLU(), new nn.Linear(64, 2));
    m.predict(randn([512, 64])); // the kernel pool starts its threads at its first use
    const ids = (nativeBinding() as unknown as { poolThreadIds(): number[] }).poolThreadIds().filter((t) => t > 0);
    expect(ids.length).toBeGreaterThan(0);
    const pool = new serve.InferencePool(m, { nice: base + 2 });
    try {
      await pool.ready();
      for (const t of ids) expect(niceOf(t)).toBe(base + 2);
      manualSeed(5);
      const x = randn([64, 64]);
      const y = new Tensor(Int32Array.from({ length: 64 }, (_, i) => (x.data[i * 64] > 0 ? 1 : 0)), [64]);
      const during: number[][] = [];
      await fitInWorker(m, x, y, {
        loss: 'crossEntropy', optimizer: 'sgd', lr: 0.1, epochs: 2, batchSize: 16, nice: base + 6, idleTimeoutMs: 0,
        onEpochEnd: () => { during.push(ids.map(niceOf)); },
      });
      expect(during).toEqual([ids.map(() => base + 2), ids.map(() => base + 2)]);
      for (const t of ids) expect(niceOf(t)).toBe(base + 2);
    } finally {
      await pool.close();
    }
    expect(liveWorkers.size).toBe(0);
  });
});
