/**
 * The fuzzer: seeded malformed AND valid calls over the public API (tensor
 * creation, every op, autograd, optimizers, layers, losses, fit / evaluate /
 * predict, save / load with bad paths and hostile files), the raw backend()
 * kernels and the addon binding itself, on both backends. Calls run in child
 * processes (test/fuzz/worker.mjs, on the compiled package in dist/), so a
 * crash (a signal) or a hang (no progress for HANG_MS) is caught and named.
 *
 * Oracles, per call: it throws an Error whose message starts with 'fathom',
 * or it returns a result that passes the call's check. Failures:
 *   crash      the process died (signal or abnormal exit) during the call
 *   hang       no result within HANG_MS
 *   garbage    invalid input accepted (a tensor of strings, a ragged array,
 *              an overlapping output...), or a valid call's result has the
 *              wrong shape or NaN/Inf from finite inputs
 *   refused    valid input refused
 *   bad-error  a TypeError/RangeError from deep inside, or an error that
 *              does not name fathom's op
 *
 * Environment: FATHOM_FUZZ_SEED (a number, or 'random'; printed either way),
 * FATHOM_FUZZ_CALLS (calls per backend, default 2400). To replay call i:
 *   npx tsc -p tsconfig.json && FATHOM_BACKEND=ts node test/fuzz/worker.mjs ts <seed> <i> <i+1>
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeBinding } from '../../lib/backend/index.js';

const root = resolve(import.meta.dirname, '..', '..');
const worker = join(root, 'test', 'fuzz', 'worker.mjs');
const HANG_MS = 10_000;
const seedEnv = process.env.FATHOM_FUZZ_SEED ?? '';
const SEED = seedEnv === 'random' ? (Math.random() * 2 ** 32) >>> 0 : seedEnv !== '' ? Number(seedEnv) >>> 0 : 20261129;
const CALLS = Number(process.env.FATHOM_FUZZ_CALLS ?? 2400);
const OUTCOMES = ['ok', 'error', 'refused', 'garbage', 'bad-error', 'crash', 'hang'] as const;
type Outcome = (typeof OUTCOMES)[number];
const FAILING: readonly Outcome[] = ['refused', 'garbage', 'bad-error', 'crash', 'hang'];

interface CallResult {
  index: number;
  area: string;
  op: string;
  args: string;
  outcome: Outcome;
  detail: string;
}

interface Batch {
  results: CallResult[];
  /** The call that was running when the worker died or went silent, if any. */
  open: { index: number; area: string; op: string; args: string } | null;
  done: boolean;
  signal: string | null;
  code: number | null;
  timedOut: boolean;
  stderr: string;
}

function runBatch(backend: string, from: number, to: number, hangMs: number, extra: Record<string, string>): Promise<Batch> {
  return new Promise((done) => {
    // cwd is the scratch folder too: a relative path a call writes stays inside it.
    const tmp = mkdtempSync(join(scratch, `${backend}-`));
    const child = spawn(process.execPath, [worker, backend, String(SEED), String(from), String(to)], {
      cwd: tmp,
      env: { ...process.env, FATHOM_BACKEND: backend, FATHOM_FUZZ_TMP: tmp, ...extra },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const b: Batch = { results: [], open: null, done: false, signal: null, code: null, timedOut: false, stderr: '' };
    let buf = '';
    let timer = setTimeout(kill, hangMs);
    function kill() {
      b.timedOut = true;
      child.kill('SIGKILL');
    }
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      clearTimeout(timer);
      timer = setTimeout(kill, hangMs);
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const parts = buf.slice(0, nl).split('\t');
        buf = buf.slice(nl + 1);
        if (parts[0] === 'S') {
          b.open = { index: Number(parts[1]), area: parts[2], op: parts[3], args: parts[4] ?? '' };
        } else if (parts[0] === 'R' && b.open && Number(parts[1]) === b.open.index) {
          b.results.push({ ...b.open, outcome: parts[2] as Outcome, detail: parts[3] ?? '' });
          b.open = null;
        } else if (parts[0] === 'E') {
          b.done = true;
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (b.stderr.length < 4000) b.stderr += chunk;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      b.code = code;
      b.signal = signal;
      done(b);
    });
  });
}

/** Runs calls [0, calls) on one backend, restarting after each crash or hang. */
async function fuzz(backend: string, calls = CALLS, hangMs = HANG_MS, extra: Record<string, string> = {}): Promise<CallResult[]> {
  const all: CallResult[] = [];
  let from = 0;
  for (let restarts = 0; from < calls && restarts < 100; restarts++) {
    const b = await runBatch(backend, from, calls, hangMs, extra);
    all.push(...b.results);
    if (b.done && b.code === 0) break;
    const last = b.results.at(-1)?.index ?? from - 1;
    if (b.open) {
      const why = b.timedOut
        ? `no result after ${hangMs / 1000} s`
        : `the process died (${b.signal ?? `exit code ${b.code}`}): ${b.stderr.trim().split('\n').slice(-3).join(' | ')}`;
      all.push({ ...b.open, outcome: b.timedOut ? 'hang' : 'crash', detail: why });
      from = b.open.index + 1;
    } else if (b.timedOut || !b.done) {
      // Died between calls (e.g. at start-up): report it once, skip past the last call seen.
      all.push({
        index: last + 1, area: 'fuzzer', op: '(between calls)', args: '',
        outcome: b.timedOut ? 'hang' : 'crash', detail: `${b.signal ?? b.code}: ${b.stderr.slice(-500)}`,
      });
      from = last + 2;
    } else {
      break;
    }
  }
  return all;
}

function summary(results: CallResult[]): Record<Outcome, number> & { calls: number } {
  const s = { calls: results.length } as Record<Outcome, number> & { calls: number };
  for (const o of OUTCOMES) s[o] = 0;
  for (const r of results) s[r.outcome]++;
  return s;
}

function report(backend: string, failures: CallResult[]): string {
  return failures
    .slice(0, 40)
    .map((r) => `  [${backend} seed ${SEED} #${r.index}] ${r.outcome}: ${r.op}(${r.args}) -> ${r.detail}`)
    .join('\n') + (failures.length > 40 ? `\n  ... and ${failures.length - 40} more` : '');
}

/** The newest modification time of the .ts files under dir. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith('.ts')) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

const backends = nativeBinding() ? ['native', 'ts'] : ['ts'];
/** Files the io calls write; removed at the end even when a worker was killed. */
const scratch = mkdtempSync(join(tmpdir(), 'fathom-fuzz-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const results = new Map<string, CallResult[]>();
const AREAS = [
  ['kernels', 'the raw backend() kernels'],
  ['binding', 'the addon binding itself'],
  ['tensor', 'tensor creation, ops, autograd and optimizers'],
  ['layers', 'layers, losses, fit / evaluate / predict'],
  ['io', 'save / load'],
] as const;

describe(`fuzzer (seed ${SEED}, ${CALLS} calls per backend; FATHOM_FUZZ_SEED overrides)`, () => {
  beforeAll(async () => {
    const dist = join(root, 'dist', 'index.js');
    if (!existsSync(dist) || statSync(dist).mtimeMs < newest(join(root, 'lib'))) {
      throw new Error('fuzz: dist/ is missing or older than lib/; run `npx tsc -p tsconfig.json` (npm test does)');
    }
    const t0 = Date.now();
    const runs = await Promise.all(backends.map((b) => fuzz(b)));
    backends.forEach((b, i) => results.set(b, runs[i]));
    const lines = backends.map((b) => {
      const s = summary(results.get(b)!);
      return `  ${b.padEnd(6)} calls ${s.calls}: ok ${s.ok}, errors ${s.error}, crashes ${s.crash}, hangs ${s.hang}, ` +
        `garbage ${s.garbage}, refused-valid ${s.refused}, bad-errors ${s['bad-error']}`;
    });
    console.log(`fathom fuzzer, seed ${SEED} (${((Date.now() - t0) / 1000).toFixed(1)} s):\n${lines.join('\n')}`);
    mkdirSync(join(root, 'build-test'), { recursive: true });
    writeFileSync(
      join(root, 'build-test', 'fuzz-summary.json'),
      JSON.stringify({ seed: SEED, backends: Object.fromEntries(backends.map((b) => [b, summary(results.get(b)!)])) }, null, 2),
    );
  }, 180_000);

  it('the harness names the call that crashed or hung, then goes on with the next', async () => {
    const r = await fuzz('ts', 12, 1500, { FATHOM_FUZZ_INJECT: 'crash@3,hang@7' });
    expect(r.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(r[3]).toMatchObject({ index: 3, outcome: 'crash' });
    expect(r[3].detail).toMatch(/SIGSEGV/);
    expect(r[7]).toMatchObject({ index: 7, outcome: 'hang', detail: 'no result after 1.5 s' });
    expect(r.filter((c) => c.outcome === 'crash' || c.outcome === 'hang')).toHaveLength(2);
  });

  for (const backend of backends) {
    it(`${backend}: made at least 2000 calls, all accounted for`, () => {
      const r = results.get(backend)!;
      expect(r.length).toBeGreaterThanOrEqual(Math.min(CALLS, 2000));
      expect(new Set(r.map((c) => c.index)).size).toBe(r.length);
    });
    for (const [area, what] of AREAS) {
      if (area === 'binding' && backend === 'ts') continue;
      it(`${backend}: ${what}: no crash, hang, garbage, refused valid input or cryptic error`, () => {
        const r = results.get(backend)!.filter((c) => c.area === area || (area === 'tensor' && c.area === 'fuzzer'));
        const bad = r.filter((c) => FAILING.includes(c.outcome));
        expect(bad, `${bad.length} of ${r.length} ${area} calls failed:\n${report(backend, bad)}`).toEqual([]);
      });
    }
  }
});
