/**
 * bench/optim.js — the optimizer section: `opt.step()` throughput of every optimizer on the
 * native backend and on the TS backend (one fused kernel per parameter each), as steps/s,
 * million parameter updates per second and the memory traffic that implies.
 */
import { OPTIM_CASES, OPTIM_SIZES, optimBytes } from './cases.js';
import { suite, table, num, ratio, withRme, DASH } from './runner.js';

/** One parameter of n values with a fixed gradient, and an optimizer over it. */
function setup(fathom, c, n) {
  const w = new Float32Array(n), g = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    w[i] = Math.sin(i);
    g[i] = 0.01 * Math.cos(i);
  }
  const p = fathom.tensor(w, [n]).requireGrad();
  p.grad = fathom.tensor(g, [n]);
  const opt = new fathom.optim[c.make]([p], c.cfg);
  return () => opt.step();
}

export async function optimSection({ native, tsTarget, fathom, quick, out, threads }) {
  const sizes = quick ? OPTIM_SIZES.slice(0, 1) : OPTIM_SIZES;
  out('## Optimizer steps: `opt.step()` on one parameter');
  out();
  out('One fused pass per parameter (w, g and the state buffers read once, w and the state written once). ' +
    `Native on ${threads} thread${threads === 1 ? '' : 's'}, TS on 1. GB/s counts 4 bytes per value of w (read + write), g (read) and each state buffer (read + write).`);
  out();
  const results = new Map();
  for (const t of [native, tsTarget]) {
    if (t.unavailable) continue;
    await t.activate();
    const cases = OPTIM_CASES.flatMap((c) => sizes.map((n) => ({ key: `${c.id}/${n}`, fn: setup(fathom, c, n) })));
    for (const [k, v] of suite(t.name, cases)) results.set(`${t.name}/${k}`, v);
  }
  const rows = [];
  for (const c of OPTIM_CASES) {
    for (const n of sizes) {
      const rn = results.get(`${native.name}/${c.id}/${n}`), rt = results.get(`${tsTarget.name}/${c.id}/${n}`);
      const hz = (r) => (r && !r.error ? r.hz : null);
      rows.push([
        c.label, num(n), rn ? withRme(rn) : DASH, num(hz(rn) && (hz(rn) * n) / 1e6), num(hz(rn) && (hz(rn) * optimBytes(c, n)) / 1e9),
        rt ? withRme(rt) : DASH, num(hz(rt) && (hz(rt) * n) / 1e6), ratio(hz(rn) && hz(rt) && hz(rn) / hz(rt)),
      ]);
    }
  }
  out(table(['optimizer', 'values', 'native steps/s', 'native M updates/s', 'native GB/s', 'TS steps/s', 'TS M updates/s', 'native / TS'],
    rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r']));
  out();
}
