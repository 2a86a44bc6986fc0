// BatchingPredictor (lib/serve/batching.ts) leaves no timer or worker holding the process: a child process
// makes a predictor with a long maxDelayMs (60 s: a timer left armed would hold it that long), cancels
// waiting requests (one alone, one of a shared signal while others of it were sent), has one refused at the
// call, answers full batches, calls setModel with a request waiting (sent at once), cancels a later one, and never calls
// close(). It must end by itself with exit code 0 once its script is done; one still running 5 s after it
// printed 'end' is killed (SIGKILL) and the test fails. Likewise an InferencePool whose stuck worker
// timeoutMs ended and replaced (its clock and the replacement must not hold the process). The child imports
// the compiled package (dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/index.js', import.meta.url).href;
const STALL_LAYER = new URL('../serve/fixtures/stall-layer.mjs', import.meta.url).href; // spins on an input 555

function run(code: string): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const dir = mkdtempSync(join(tmpdir(), 'fathom-break13-exit-'));
    const file = join(dir, 'child.mjs');
    writeFileSync(file, code);
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let kill: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on('data', (s) => {
      out += s;
      if (out.includes('end') && !kill) kill = setTimeout(() => child.kill('SIGKILL'), 5000);
    });
    child.stderr.on('data', (s) => { out += s; });
    child.on('exit', (c, sig) => {
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: c, signal: sig, out });
    });
  });
}

describe('BatchingPredictor: nothing left holding the process', () => {
  it('cancelled, refused and answered requests and a setModel, no close()', async () => {
    const r = await run(`
      import { nn, randn, serve } from ${JSON.stringify(DIST)};
      const bp = new serve.BatchingPredictor(new nn.Sequential(new nn.Linear(4, 3)), { maxBatchSize: 4, maxDelayMs: 60_000 });
      await bp.ready();
      const lone = new AbortController();
      const p1 = bp.predict(randn([1, 4]), { signal: lone.signal }); // waits: the 60 s timer is armed
      lone.abort(new Error('gone'));
      await p1.catch((e) => console.log('cancelled', e.message));
      const shared = new AbortController();
      const ps = [bp.predict(randn([8, 4]), { signal: shared.signal }), bp.predict(randn([1, 4]), { signal: shared.signal })];
      shared.abort(new Error('all gone')); // the first filled two batches, sent at once: it completes; the second waits: cancelled
      for (const s of await Promise.allSettled(ps)) console.log(s.status);
      await bp.predict(randn([1, 5])).catch((e) => console.log('refused', /per-sample shape/.test(e.message)));
      const y = await bp.predict(randn([4, 4]));
      const ac = new AbortController();
      const waiting = bp.predict(randn([2, 4]), { signal: ac.signal });
      bp.setModel(new nn.Sequential(new nn.Linear(4, 3))); // sends the old snapshot's waiting batch at once
      ac.abort(new Error('late')); // handed off already: answered
      await waiting.then(() => console.log('answered'), (e) => console.log('cancelled', e.message));
      const late = new AbortController();
      const p2 = bp.predict(randn([1, 4]), { signal: late.signal }); // the new snapshot, waiting: the timer armed
      late.abort(new Error('later'));
      await p2.catch((e) => console.log('cancelled', e.message));
      const s = bp.stats();
      console.log('end', y.shape.join('x'), s.queueDepth, s.queuedRows);
    `);
    expect(r.out, JSON.stringify(r)).toMatch(/cancelled gone\nfulfilled\nrejected\nrefused true\nanswered\ncancelled later\nend 4x3 0 0/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  }, 20_000);

  it('an InferencePool whose stuck worker was ended by timeoutMs and replaced, no close()', async () => {
    const r = await run(`
      import { nn, randn, serve, Tensor } from ${JSON.stringify(DIST)};
      class StallOn555 extends nn.Module { forward(x) { return x; } config() { return { type: 'StallOn555' }; } }
      nn.registerModuleType('StallOn555', () => new StallOn555(), () => []);
      const pool = new serve.InferencePool(new nn.Sequential(new StallOn555(), new nn.Linear(4, 3)), { imports: [${JSON.stringify(STALL_LAYER)}], workers: 2, timeoutMs: 500 });
      await pool.ready();
      const stuck = pool.predict(new Tensor(new Float32Array([555, 0, 0, 0]), [1, 4]));
      const y = await pool.predict(randn([2, 4])); // the other worker
      await stuck.catch((e) => console.log('timed out', /timeoutMs = 500 ms/.test(e.message)));
      await pool.ready(); // the replacement is up
      console.log('end', y.shape.join('x'), pool.replacedWorkers);
    `);
    expect(r.out, JSON.stringify(r)).toMatch(/timed out true\nend 2x3 1/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  }, 20_000);
});
