/**
 * The addon is context-aware: it loads in worker_threads with its own
 * per-environment instance, and terminating a worker while native work runs
 * (sync or async) neither crashes nor disturbs the main thread.
 */
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');

const computeSrc = `
const { parentPort, workerData } = require('node:worker_threads');
const b = require('node-gyp-build')(workerData.root);
const a = new Float32Array([1, 2, 3, 4]), c = new Float32Array(4);
b.gemm(false, false, 2, 2, 2, 1, a, a, 0, c);
const d = new Float32Array(4);
b.gemmAsync(false, true, 2, 2, 2, 1, a, a, 0, d).then(() => {
  parentPort.postMessage({ c: Array.from(c), d: Array.from(d), isa: b.info().isa });
});
`;

const busySrc = `
const { parentPort, workerData } = require('node:worker_threads');
const b = require('node-gyp-build')(workerData.root);
const n = 384, a = new Float32Array(n * n).fill(0.5), c = new Float32Array(n * n);
const pending = [];
for (let i = 0; i < 4; i++) pending.push(b.gemmAsync(false, false, n, n, n, 1, a, a, 0, new Float32Array(n * n)));
parentPort.postMessage('started');
for (;;) b.gemm(false, false, n, n, n, 1, a, a, 0, c); // sync native work until terminated
`;

function spawn(src: string): Worker {
  return new Worker(src, { eval: true, workerData: { root } });
}

describe.skipIf(!nativeBinding())('worker_threads', () => {
  it('loads and computes in several workers at once', async () => {
    const results = await Promise.all([0, 1, 2].map(() => new Promise<{ c: number[]; d: number[]; isa: string }>((res, rej) => {
      const w = spawn(computeSrc);
      w.once('message', (m) => { res(m); void w.terminate(); });
      w.once('error', rej);
    })));
    for (const r of results) {
      expect(r.c).toEqual([7, 10, 15, 22]);
      expect(r.d).toEqual([5, 11, 11, 25]); // A · Aᵀ
      expect(r.isa).toBe(nativeBinding()!.info().isa);
    }
  });

  it('survives terminating a worker in the middle of native work', async () => {
    for (let round = 0; round < 3; round++) {
      const w = spawn(busySrc);
      await new Promise((r) => w.once('message', r));
      await new Promise((r) => setTimeout(r, 30 + 20 * round));
      await w.terminate();
    }
    await new Promise((r) => setTimeout(r, 300)); // async jobs finish after their env is gone
    const b = nativeBinding()!;
    const a = new Float32Array([1, 2, 3, 4]);
    const c = new Float32Array(4);
    b.gemm(false, false, 2, 2, 2, 1, a, a, 0, c);
    expect([...c]).toEqual([7, 10, 15, 22]);
  });

  it('gemmAsync leaves the event loop free', async () => {
    const b = nativeBinding()!;
    const n = 512;
    const a = new Float32Array(n * n).fill(0.25);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const t0 = performance.now();
    for (let i = 0; i < 8; i++) await b.gemmAsync(false, false, n, n, n, 1, a, a, 0, new Float32Array(n * n));
    const ms = performance.now() - t0;
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(Math.min(20, ms / 10));
  });
});
