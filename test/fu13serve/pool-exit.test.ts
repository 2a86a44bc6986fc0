// InferencePool (lib/serve/pool.ts): idle workers never keep the process alive — also a worker that never
// got a request (the second of two after one predict; a pool never used; a replacement for a worker that
// died). A child process makes such pools, never calls close(), and must end by itself with exit code 0 once
// its script is done; one still running 5 s after it printed 'end' is killed (SIGKILL) and the test
// fails. And a starting worker does hold the process: `await pool.ready()` with no request outstanding
// must not end it early (exit code 13, an unsettled top-level await).
// The child imports the compiled package (dist/).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/index.js', import.meta.url).href;
const EXIT_LAYER = new URL('../serve/fixtures/exit-layer.mjs', import.meta.url).href; // process.exit(3) on an input 777

function run(code: string): Promise<{ code: number | null; signal: string | null; out: string }> {
  return new Promise((resolve) => {
    const dir = mkdtempSync(join(tmpdir(), 'fathom-fu13-exit-'));
    const file = join(dir, 'child.mjs');
    writeFileSync(file, code); // a file, not -e: workers inherit execArgv, and --input-type is refused in a worker
    const child = spawn(process.execPath, [file], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (s) => { out += s; });
    child.stderr.on('data', (s) => { out += s; });
    // The child's script has printed 'end' and is idle: if it has not exited 5 s later, something keeps it alive.
    let kill: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on('data', () => { if (out.includes('end') && !kill) kill = setTimeout(() => child.kill('SIGKILL'), 5000); });
    child.on('exit', (c, sig) => {
      clearTimeout(kill);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: c, signal: sig, out });
    });
  });
}

describe('InferencePool: idle workers do not keep the process alive', () => {
  for (const backend of ['native', 'ts']) {
    it(`two workers, one request, no close() (${backend})`, async () => {
      const r = await run(`
        import { nn, randn, serve, setBackend } from ${JSON.stringify(DIST)};
        setBackend(${JSON.stringify(backend)});
        const pool = new serve.InferencePool(new nn.Sequential(new nn.Linear(4, 3)), { workers: 2 });
        await pool.ready();
        const y = await pool.predict(randn([2, 4]));
        const idle = new serve.InferencePool(new nn.Sequential(new nn.Linear(4, 3))); // never used
        await idle.ready();
        console.log('end', y.shape.join('x'));
      `);
      expect(r.out, JSON.stringify(r)).toMatch(/end 2x3/);
      expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null }); // 13: ready() did not hold the process
    }, 20_000);
  }

  it('a replacement worker (the first died) and a pool never awaited', async () => {
    const r = await run(`
      import { nn, randn, serve, Tensor } from ${JSON.stringify(DIST)};
      class ExitOn777 extends nn.Module { forward(x) { return x; } config() { return { type: 'ExitOn777' }; } }
      nn.registerModuleType('ExitOn777', () => new ExitOn777(), () => []);
      const pool = new serve.InferencePool(new nn.Sequential(new ExitOn777(), new nn.Linear(4, 3)), { imports: [${JSON.stringify(EXIT_LAYER)}] });
      const died = await pool.predict(new Tensor(new Float32Array([777, 0, 0, 0]), [1, 4])).then(() => 'answered', (e) => e.message);
      const y = await pool.predict(randn([1, 4])); // the replacement answers
      new serve.InferencePool(new nn.Sequential(new nn.Linear(4, 3))); // started, never awaited nor used
      console.log('end', pool.replacedWorkers, y.shape.join('x'), died);
    `);
    expect(r.out, JSON.stringify(r)).toMatch(/end 1 1x3 fathom\.InferencePool: a worker exited \(code 3\)/);
    expect({ code: r.code, signal: r.signal }).toEqual({ code: 0, signal: null });
  }, 20_000);
});
