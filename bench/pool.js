/**
 * bench/pool.js — the pooling kernels, native (the default ISA and
 * the portable scalar reference) beside the pure-TS twins.
 *
 *   node bench/pool.js [rounds]       (after `npx tsc -p tsconfig.json` and the addon build)
 *
 * Each ISA runs in its own child process (FATHOM_ISA is read once per process);
 * the TS backend runs in the scalar child. Per cell: the median over rounds of
 * the per-call time of the raw kernel (no tensor allocation, no autograd) and
 * the bandwidth it implies (input + output bytes; backward: x, dy and dx).
 * Cases: the digit CNN's pools (2×2 stride 2 on [64, 32, 24, 24] and
 * [64, 64, 8, 8]), 3×3 stride-2 and stride-1 padded max pools, avg pooling and global
 * average pooling.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const rounds = Number(process.argv[2] ?? 7);

const CASES = [
  { name: 'maxPool2d 2×2/2', shape: [64, 32, 24, 24], k: 2, s: 2, p: 0, kind: 'max' },
  { name: 'maxPool2d 2×2/2', shape: [64, 64, 8, 8], k: 2, s: 2, p: 0, kind: 'max' },
  { name: 'maxPool2d 3×3/2 pad 1', shape: [64, 32, 24, 24], k: 3, s: 2, p: 1, kind: 'max' },
  { name: 'maxPool2d 3×3/1 pad 1', shape: [64, 32, 24, 24], k: 3, s: 1, p: 1, kind: 'max' },
  { name: 'avgPool2d 2×2/2', shape: [64, 32, 24, 24], k: 2, s: 2, p: 0, kind: 'avg' },
  { name: 'adaptiveAvgPool2d → 1×1', shape: [64, 256, 7, 7], kind: 'adaptive' },
];

function geom(c) {
  const [n, ch, h, w] = c.shape;
  if (c.kind === 'adaptive') return { nc: n * ch, h, w, oh: 1, ow: 1, kh: 1, kw: 1, sh: 1, sw: 1, ph: 0, pw: 0, dh: 1, dw: 1 };
  const o = (x) => Math.floor((x + 2 * c.p - c.k) / c.s) + 1;
  return { nc: n * ch, h, w, oh: o(h), ow: o(w), kh: c.k, kw: c.k, sh: c.s, sw: c.s, ph: c.p, pw: c.p, dh: 1, dw: 1 };
}

async function child(backendName) {
  const fathom = await import('../dist/index.js');
  fathom.setBackend(backendName);
  const b = fathom.backend();
  const out = {};
  for (const [i, c] of CASES.entries()) {
    const g = geom(c);
    const x = Float32Array.from({ length: g.nc * g.h * g.w }, (_, j) => Math.sin(j * 12.9898) * 43758.5453 % 1);
    const y = new Float32Array(g.nc * g.oh * g.ow), dx = new Float32Array(x.length);
    const fwd = c.kind === 'max' ? () => b.maxPool2d(g, x, y) : c.kind === 'avg' ? () => b.avgPool2d(g, true, 0, x, y) : () => b.adaptiveAvgPool2d(g, x, y);
    const bwd = c.kind === 'max' ? () => b.maxPool2dBackward(g, x, y, dx) : c.kind === 'avg' ? () => b.avgPool2dBackward(g, true, 0, y, dx) : () => b.adaptiveAvgPool2dBackward(g, y, dx);
    const time = (f) => {
      f();
      let reps = 1;
      for (;;) {
        const t0 = process.hrtime.bigint();
        for (let r = 0; r < reps; r++) f();
        const ms = Number(process.hrtime.bigint() - t0) / 1e6;
        if (ms > 60) return ms / reps;
        reps *= 2;
      }
    };
    out[i] = { fwd: time(fwd), bwd: time(bwd), inB: 4 * x.length, outB: 4 * y.length };
  }
  return out;
}

if (process.env.FATHOM_POOL_BENCH_CHILD) {
  const r = await child(process.env.FATHOM_POOL_BENCH_CHILD);
  process.stdout.write(JSON.stringify(r));
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (backend, isa) => JSON.parse(execFileSync(process.execPath, [self], {
    env: { ...process.env, FATHOM_POOL_BENCH_CHILD: backend, ...(isa ? { FATHOM_ISA: isa } : {}) }, encoding: 'utf8',
  }));
  const fathom = await import('../dist/index.js');
  const isa = fathom.info().isa;
  const cols = [['native', undefined, isa], ['native', 'scalar', 'scalar'], ['ts', 'scalar', 'ts']];
  const samples = cols.map(() => []);
  for (let r = 0; r < rounds; r++) {
    process.stderr.write(`round ${r + 1}/${rounds}\r`);
    cols.forEach(([b, i], k) => samples[k].push(run(b, i)));
  }
  const med = (a) => a.slice().sort((p, q) => p - q)[a.length >> 1];
  console.log(`| op | input | pass | ${cols.map((c) => `${c[2]} ms (GB/s)`).join(' | ')} | ${isa} × ts |`);
  console.log(`| --- | --- | --- | ${cols.map(() => '---:').join(' | ')} | ---: |`);
  for (const [i, c] of CASES.entries()) {
    for (const pass of ['fwd', 'bwd']) {
      const ms = samples.map((s) => med(s.map((o) => o[i][pass])));
      const { inB, outB } = samples[0][0][i];
      // fwd: x + y; bwd: dy + dx (+ x for max, which re-reads it to find the winners)
      const bytes = pass === 'fwd' ? inB + outB : inB + outB + (c.kind === 'max' ? inB : 0);
      const cells = ms.map((t) => `${t.toFixed(3)} (${(bytes / t / 1e6).toFixed(1)})`);
      console.log(`| ${c.name} | [${c.shape.join(', ')}] | ${pass} | ${cells.join(' | ')} | ${(ms[2] / ms[0]).toFixed(1)}× |`);
    }
  }
}
