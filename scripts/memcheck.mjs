#!/usr/bin/env node
// Long-run memory check (`npm run test:memory`): resident memory must stay flat.
//
// Each scenario runs in its own child process and trains (or predicts) in a
// loop: Linear 32-64-10, batch 32, SGD, 2 native threads, the loop of issue 8.
// Steps (default, --scale multiplies them): manual training, predict and fit
// 1 M each on the native backend; on the TS backend 100 k, 200 k and 100 k.
// The run is cut into 20 windows of 40 RSS samples each (/proc/self/statm,
// read into a reused buffer so that the sampler itself allocates nothing).
// Warm-up is the first 10 % of the steps (--warmup); "RSS after warm-up" is
// the median of the samples of its second half (5-10 %), "RSS at the end"
// the median of the last 10 %. The check FAILS when the end exceeds the
// warm-up by more than --tolerance (default 5 %). Medians, because the RSS
// saws with every scavenge (dead tensor data waits in malloc for the GC):
// a leak or a step that stays moves the median, a GC peak does not. The
// worst window and the kernel's peak RSS (VmHWM) are printed as well.
//
// The young generation is pinned by default (--young pinned): V8 starts it
// with 1 MiB semi-spaces and doubles them, up to 16 MiB on 64-bit, each time
// as many bytes have survived scavenges as the space holds: a training loop
// gets there only after millions of steps. Every doubling adds the new
// semi-space and, because a tensor keeps its data in a malloc'ed ArrayBuffer
// backing store that is freed only by the scavenge that finds it dead, a
// proportional amount of dead tensor data waiting in malloc: 61 MB flat with
// 1 MiB semi-spaces, 118-129 MB with 16 MiB: the 71 -> 120 MB steps of
// issue 8. Pinning the young generation at V8's own ceiling
// (--min/--max-semi-space-size=16) measures the state every long run
// converges to, from the start; growth on top of it is fathom's own (native
// allocations, memory malloc keeps, retained JS objects). Found that way: the
// malloc heap kept every late-GC high-water mark (RSS 116 -> 151 MB over 1 M
// steps) until the addon began to call malloc_trim (native/runtime/malloc_trim.h).
// --young small pins 1 MiB semi-spaces (the small-footprint setting);
// --young default leaves V8's sizing alone and reproduces the issue's curve.
// --after-gc samples the RSS right after a full GC (4 samples per window):
// what is retained, without V8's garbage (the young generation's dead tensors,
// the old generation's promoted garbage waiting for its next major GC). Few
// steps suffice to see a leak or memory that malloc keeps: the CI test uses it.
// --leak N keeps N bytes per step alive (to see the check fail).
//
// Usage: node scripts/memcheck.mjs [--scale F] [--young pinned|small|default]
//          [--only train,predict,fit,ts-train,ts-predict,ts-fit]
//          [--warmup 0.1] [--tolerance 0.05] [--after-gc] [--leak N]
// Loads ../dist (npm run build:ts; `npm run test:memory` builds it first).
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';

const SCENARIOS = {
  train: { backend: 'native', loop: 'train', steps: 1_000_000 },
  predict: { backend: 'native', loop: 'predict', steps: 1_000_000 },
  fit: { backend: 'native', loop: 'fit', steps: 1_000_000 },
  'ts-train': { backend: 'ts', loop: 'train', steps: 100_000 },
  'ts-predict': { backend: 'ts', loop: 'predict', steps: 200_000 },
  'ts-fit': { backend: 'ts', loop: 'fit', steps: 100_000 },
};
const YOUNG = {
  pinned: ['--min-semi-space-size=16', '--max-semi-space-size=16'],
  small: ['--min-semi-space-size=1', '--max-semi-space-size=1'],
  default: [],
};
const WINDOWS = 20;
const SAMPLES = 40; // RSS samples per window

function parseArgs(argv) {
  const o = { scale: 1, young: 'pinned', only: Object.keys(SCENARIOS), tolerance: 0.05, warmup: 0.1, leak: 0, afterGc: false, child: null, steps: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      if (i + 1 >= argv.length) throw new Error(`memcheck: ${a} needs a value`);
      return argv[++i];
    };
    if (a === '--scale') o.scale = Number(v());
    else if (a === '--young') o.young = v();
    else if (a === '--only') o.only = v().split(',').filter(Boolean);
    else if (a === '--tolerance') o.tolerance = Number(v());
    else if (a === '--warmup') o.warmup = Number(v());
    else if (a === '--leak') o.leak = Number(v());
    else if (a === '--after-gc') o.afterGc = true;
    else if (a === '--child') o.child = v();
    else if (a === '--steps') o.steps = Number(v());
    else throw new Error(`memcheck: unknown argument '${a}'`);
  }
  if (!(o.scale > 0)) throw new Error(`memcheck: --scale must be a positive number, got ${o.scale}`);
  if (!(o.young in YOUNG)) throw new Error(`memcheck: --young must be pinned, small or default, got '${o.young}'`);
  if (!(o.warmup >= 0.1 && o.warmup <= 0.5)) throw new Error(`memcheck: --warmup must be a fraction in [0.1, 0.5], got ${o.warmup}`);
  if (!(Number.isInteger(o.leak) && o.leak >= 0)) throw new Error(`memcheck: --leak must be a non-negative integer, got ${o.leak}`);
  if (!(o.tolerance > 0)) throw new Error(`memcheck: --tolerance must be a positive number, got ${o.tolerance}`);
  for (const s of o.only) if (!(s in SCENARIOS)) throw new Error(`memcheck: unknown scenario '${s}' (one of ${Object.keys(SCENARIOS).join(', ')})`);
  return o;
}

// ---- child: one scenario ---------------------------------------------------
// VmRSS without allocating much per sample (the sampler must not be what grows):
// /proc/self/statm read into one reused buffer; field 2 is resident pages.
const statmBuf = Buffer.alloc(256);
let statmFd = -1;
function rssKb() {
  if (statmFd < 0) statmFd = openSync('/proc/self/statm', 'r');
  const n = readSync(statmFd, statmBuf, 0, statmBuf.length, 0);
  let i = 0;
  while (i < n && statmBuf[i] !== 32) i++;
  let pages = 0;
  for (i++; i < n && statmBuf[i] >= 48 && statmBuf[i] <= 57; i++) pages = pages * 10 + statmBuf[i] - 48;
  return pages * 4;
}
// Where the resident memory is, once per window (kB): malloc's main heap
// ([heap], brk), malloc's per-thread arenas (64 MiB-aligned anonymous
// mappings of glibc), other anonymous memory (V8's heap, stacks), and V8's
// own view of its spaces.
function breakdown() {
  const out = { brk: 0, arenas: 0, otherAnon: 0, file: 0 };
  let kind = '';
  for (const l of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-[0-9a-f]+ \S+ \S+ \S+ (\d+)\s*(.*)$/.exec(l);
    if (m) {
      const start = BigInt(`0x${m[1]}`);
      if (m[3] === '[heap]') kind = 'brk';
      else if (m[2] !== '0' || m[3].startsWith('/')) kind = 'file';
      else if (m[3] === '' && start % (64n << 20n) === 0n) kind = 'arenas';
      else kind = 'otherAnon';
    } else if (l.startsWith('Rss:')) out[kind] += Number(/(\d+)/.exec(l)[1]);
  }
  for (const sp of getHeapSpaceStatistics()) out[`v8_${sp.space_name}`] = Math.round(sp.physical_space_size / 1024);
  return out;
}
function procKb(field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) : NaN;
}
// Resets VmHWM to the current RSS (Linux >= 4.0); false where not allowed.
function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function child(name, steps, leak, afterGc) {
  const sc = SCENARIOS[name];
  const f = await import('../dist/index.js');
  f.setBackend(sc.backend);
  f.manualSeed(1);
  const model = new f.nn.Sequential(new f.nn.Linear(32, 64), new f.nn.ReLU(), new f.nn.Linear(64, 10));
  const opt = new f.optim.SGD(model.parameters(), { lr: 0.01 });
  const x = f.rand([32, 32], { seed: 2 });
  const y = f.tensor(Int32Array.from({ length: 32 }, (_, i) => i % 10));
  const xs = f.rand([1024, 32], { seed: 3 });
  const ys = f.tensor(Int32Array.from({ length: 1024 }, (_, i) => i % 10));
  const perEpoch = 1024 / 32;
  const leaked = []; // --leak N: keep N bytes per step (proves the check can fail)
  const run = async (n) => {
    for (let i = 0; leak > 0 && i < n; i++) leaked.push(new Uint8Array(leak));
    if (sc.loop === 'fit') {
      const epochs = Math.max(1, Math.round(n / perEpoch));
      await model.fit(xs, ys, { loss: 'crossEntropy', optimizer: opt, epochs, batchSize: 32, verbose: 0 });
      return epochs * perEpoch;
    }
    if (sc.loop === 'predict') for (let i = 0; i < n; i++) model.predict(x);
    else {
      for (let i = 0; i < n; i++) {
        const loss = f.losses.crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
    }
    return n;
  };
  const gc = globalThis.gc;
  const retained = () => {
    gc();
    gc();
    const m = process.memoryUsage();
    return m.heapUsed + m.arrayBuffers;
  };
  const exact = resetPeak();
  const per = Math.max(1, Math.ceil(steps / WINDOWS));
  const chunks = Math.min(afterGc ? 4 : SAMPLES, per);
  const windows = [];
  const t0 = performance.now();
  let done = 0;
  // One full GC before the loop, one after it: a forced GC inside the measured
  // stretch would reset V8's old-generation limit and start a slow re-growth.
  const retainedAtStart = retained();
  for (let w = 0; w < WINDOWS; w++) {
    const rss = [];
    for (let c = 0; c < chunks; c++) {
      done += await run(Math.max(1, Math.round(per / chunks)));
      if (afterGc) gc();
      rss.push(rssKb());
    }
    rss.sort((a, b) => a - b);
    const m = process.memoryUsage();
    windows.push({
      steps: done,
      samplesKb: rss,
      medianKb: rss[rss.length >> 1],
      peakKb: exact ? procKb('VmHWM') : rss[rss.length - 1],
      heapUsed: m.heapUsed,
      heapTotal: m.heapTotal,
      external: m.external,
      arrayBuffers: m.arrayBuffers,
      where: breakdown(),
    });
    if (exact) resetPeak();
  }
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`${JSON.stringify({ name, exact, seconds, windows, retainedAtStart, retainedAtEnd: retained() })}\n`);
}

// ---- parent ----------------------------------------------------------------
const mb = (kb) => (kb / 1024).toFixed(1);

// RSS "after warm-up" is the median of the samples of the last 10 % of the run
// (two windows): a sustained rise (a leak, a step that stays) shows there; a
// transient spike that is given back (a GC, a sweeper running late on a busy
// machine) does not. The worst window and the peak are printed as well.
function report(r, tolerance, warm) {
  const median = (ws) => {
    const v = ws.flatMap((w) => w.samplesKb).sort((x, y) => x - y);
    return v[v.length >> 1];
  };
  // Baseline: the second half of the warm-up (the first windows still fill the
  // young generation for the first time and compile code).
  const base = median(r.windows.slice(Math.floor(warm / 2), warm));
  const end = median(r.windows.slice(-2));
  const after = r.windows.slice(warm);
  const worst = after.reduce((x, y) => (y.medianKb > x.medianKb ? y : x));
  const peakBase = Math.max(...r.windows.slice(0, warm).map((w) => w.peakKb));
  const peakAfter = Math.max(...after.map((w) => w.peakKb));
  const growth = end / base - 1;
  const ok = growth <= tolerance;
  const pct = (g) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)} %`;
  console.log(
    `${ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(10)} ${String(r.windows.at(-1).steps).padStart(8)} steps ${r.seconds.toFixed(0).padStart(4)} s  ` +
      `RSS ${mb(base)} MB after warm-up -> ${mb(end)} MB at the end (${pct(growth)}); ` +
      `worst 5 % window ${mb(worst.medianKb)} MB (${pct(worst.medianKb / base - 1)}); peak ${mb(peakBase)} -> ${mb(peakAfter)} MB; ` +
      `JS heap+ArrayBuffers after a full GC ${(r.retainedAtStart / 1048576).toFixed(2)} -> ${(r.retainedAtEnd / 1048576).toFixed(2)} MB` +
      (r.exact ? '' : ' (peaks sampled: /proc/self/clear_refs not writable)'),
  );
  console.log(`     RSS median per 5 % window (MB): ${r.windows.map((w) => mb(w.medianKb)).join(' ')}`);
  return { ok, growth };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.child) return child(o.child, o.steps, o.leak, o.afterGc);
  if (process.platform !== 'linux') {
    console.log('memcheck: needs Linux (/proc/self/status); skipped');
    return;
  }
  const self = fileURLToPath(import.meta.url);
  const warm = Math.round(o.warmup * WINDOWS);
  console.log(
    `memcheck: young generation '${o.young}' (${YOUNG[o.young].join(' ') || "V8's dynamic sizing"}); ` +
      `${o.afterGc ? 'RSS sampled after a full GC; ' : ''}fails when the RSS of the last 10 % exceeds that after warm-up (first ${(o.warmup * 100).toFixed(0)} %) by more than ${(o.tolerance * 100).toFixed(1)} %`,
  );
  let failed = 0;
  for (const name of o.only) {
    const steps = Math.max(WINDOWS, Math.round(SCENARIOS[name].steps * o.scale));
    const r = spawnSync(process.execPath, [...YOUNG[o.young], '--expose-gc', self, '--child', name, '--steps', String(steps), '--leak', String(o.leak), ...(o.afterGc ? ['--after-gc'] : [])], {
      encoding: 'utf8',
      env: { ...process.env, FATHOM_NUM_THREADS: process.env.FATHOM_NUM_THREADS ?? '2' },
      maxBuffer: 1 << 24,
    });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.status !== 0 || !line.startsWith('{')) {
      console.log(`FAIL ${name}: child exited with ${r.status ?? r.signal}\n${r.stdout}${r.stderr}`);
      failed++;
      continue;
    }
    if (!report(JSON.parse(line), o.tolerance, warm).ok) failed++;
  }
  console.log(failed === 0 ? 'memcheck: all flat' : `memcheck: ${failed} scenario(s) grew`);
  process.exitCode = failed === 0 ? 0 : 1;
}

await main();
