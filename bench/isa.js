/**
 * Every ISA this CPU and binary can run, side by side, so that a default slower than the
 * alternative can never go unseen. The kernel table is chosen once per process, so each ISA runs
 * in its own child (isa-child.js with FATHOM_ISA=<isa>). Children are INTERLEAVED: for each round,
 * for each section (gemm, latency, mlp), every ISA in turn (the order rotating from round to
 * round), so load from other processes hits every ISA alike; each cell is the median over rounds.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { gemmCases, mlpForwardFlops, mlpTrainFlops } from './cases.js';
import { ISA_GEMM_CASES, ISA_LATENCY_CALLS, median } from './isa-common.js';
import { table, num, pct, ratio, DASH } from './runner.js';

const CHILD = fileURLToPath(new URL('./isa-child.js', import.meta.url));

/** Runs isa-child.js --section <section> with FATHOM_ISA=<isa> (unset: the default) and returns its JSON. */
export function child(isa, section, quick) {
  const env = { ...process.env };
  if (isa) env.FATHOM_ISA = isa;
  else delete env.FATHOM_ISA;
  const r = spawnSync(process.execPath, [CHILD, '--section', section, ...(quick ? ['--quick'] : [])], {
    env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`bench: child FATHOM_ISA=${isa ?? '(unset)'} --section ${section} exited with ${r.status ?? r.signal}`);
  const j = JSON.parse(r.stdout);
  if (j.error) throw new Error(`bench: child FATHOM_ISA=${isa}: ${j.error}`);
  if (isa && j.isa !== isa) throw new Error(`bench: asked for FATHOM_ISA=${isa}, the child ran ${j.isa}`);
  return j;
}

/**
 * Runs `section` of isa-child.js once per SIMD ISA the CPU supports (scalar left out), in interleaved
 * rounds of child processes (FATHOM_BENCH_ROUNDS, default 3, 1 when quick), and gathers every result:
 * samples `${isa}|${key}` → the values over rounds, the last `kernels` report, the ISAs, the default ISA,
 * the thread count and the rounds. Shared by the CNN and RNN sections.
 */
export function isaRounds(section, quick, log) {
  const info = child(null, 'info', quick);
  let isas = info.isas.filter((i) => i !== 'scalar');
  if (!isas.length) isas = [info.isa];
  const samples = new Map();
  let meta = [];
  const rounds = Number(process.env.FATHOM_BENCH_ROUNDS) || (quick ? 1 : 3);
  for (let r = 0; r < rounds; r++) {
    for (const isa of isas.map((_, i) => isas[(i + r) % isas.length])) {
      log(`  ${section} native ${isa} (round ${r + 1} of ${rounds})`);
      const j = child(isa, section, quick);
      meta = j.kernels ?? meta;
      for (const [k, v] of Object.entries(j.results)) {
        const key = `${isa}|${k}`;
        if (!samples.has(key)) samples.set(key, []);
        samples.get(key).push(v);
      }
    }
  }
  return { samples, meta, isas, def: info.isa, T: info.threads, rounds };
}

/**
 * Runs the comparison and prints its tables. `machine` is machineInfo(); out/log print a line to
 * stdout (the report) / stderr (progress). Rounds: 1 with --quick, else 5 (FATHOM_BENCH_ROUNDS).
 * Returns the rows where the default ISA is slower than the baseline by more than 5 %.
 */
export function isaSection({ quick, machine, out, log }) {
  const info = child(null, 'info', quick); // FATHOM_ISA unset: what the library picks by default
  const isas = info.isas;
  const def = info.isa;
  const base = isas.includes('avx2') ? 'avx2' : def;
  const N = info.maxThreads;
  const rounds = Number(process.env.FATHOM_BENCH_ROUNDS) || (quick ? 1 : 5);
  const samples = new Map(); // `${isa}|${key}` -> [values over rounds]
  for (let r = 0; r < rounds; r++) {
    for (const section of ['gemm', 'latency', 'mlp']) {
      const order = isas.map((_, i) => isas[(i + r) % isas.length]);
      for (const isa of order) {
        log(`  isa ${isa} / ${section} (round ${r + 1} of ${rounds})`);
        const res = child(isa, section, quick).results;
        for (const [k, v] of Object.entries(res)) {
          const key = `${isa}|${k}`;
          if (!samples.has(key)) samples.set(key, []);
          samples.get(key).push(v);
        }
      }
    }
  }
  const get = (isa, key) => {
    const v = samples.get(`${isa}|${key}`);
    return v ? median(v) : null;
  };
  const name = (isa) => (isa === def ? `**${isa}** (default)` : isa);
  const peak = (th) => machine.peakCore * th;
  const threadsList = N > 1 ? [1, N] : [1];
  const slower = [];
  // higherIsBetter: ratio = isa / base; else base / isa (a time). Always > 1 = faster than base.
  // Paired: the median over rounds of this round's ratio (both measured seconds apart), which
  // cancels slow drifts in machine load better than a ratio of medians.
  const rel = (isa, key, higherIsBetter, label) => {
    const v = samples.get(`${isa}|${key}`);
    const b = samples.get(`${base}|${key}`);
    if (!v || !b || v.length !== b.length) return null;
    const x = median(v.map((vi, r) => (higherIsBetter ? vi / b[r] : b[r] / vi)));
    if (isa === def && x < 0.95) slower.push(`${label}: ${ratio(x)}`);
    return x;
  };
  const align = (n) => ['l', ...Array(n - 1).fill('r')];

  out(`## Every ISA side by side (${isas.join(', ')}; default ${def})`);
  out();
  out(`Each ISA runs in its own process (\`FATHOM_ISA=<isa>\`), the processes interleaved: ${rounds} round${rounds > 1 ? 's' : ''} of ` +
    `gemm → latency → mlp, every ISA in turn (order rotating), each cell the median over rounds. ` +
    `"× ${base}" is the speed relative to ${base}, the median over rounds of that round's ratio (> 1 = faster; for latency ${base}'s time / this ISA's time). ` +
    `% peak against ${num(machine.peakCore / 1e9)} GFLOP/s per thread used (the machine's FP32 FMA peak, whatever the ISA).`);
  out();

  // GEMM
  out('### GEMM GFLOP/s (raw addon `gemm`, C = op(A)·op(B))');
  out();
  const gHead = ['shape', 'op', 'threads', ...isas.flatMap((i) => [`${name(i)} GFLOP/s`, '% peak', ...(i === base ? [] : [`× ${base}`])])];
  const gRows = [];
  for (const id of ISA_GEMM_CASES) {
    const c = gemmCases.find((g) => g.id === id);
    for (const th of threadsList) {
      const key = `gemm/${id}/${th}T`;
      gRows.push([c.label, c.op, String(th), ...isas.flatMap((i) => {
        const g = get(i, key);
        return [num(g), pct(g && (100 * g * 1e9) / peak(th)),
          ...(i === base ? [] : [ratio(rel(i, key, true, `GEMM ${c.label} ${th}T`))])];
      })]);
    }
  }
  out(table(gHead, gRows, align(gHead.length)));
  out();

  // Latency
  const calls = quick ? ISA_LATENCY_CALLS.quick : ISA_LATENCY_CALLS.full;
  out(`### Batch-1 MLP inference latency (µs per \`model.predict\`, ${calls.toLocaleString('en-US')} calls per cell)`);
  out();
  const lHead = ['threads', ...isas.flatMap((i) => [`${name(i)} p50`, 'p99', ...(i === base ? [] : [`× ${base} (p50)`, `× ${base} (p99)`])])];
  const lRows = threadsList.map((th) => [String(th), ...isas.flatMap((i) => [
    num(get(i, `lat/${th}T/p50`)), num(get(i, `lat/${th}T/p99`)),
    ...(i === base ? [] : [ratio(rel(i, `lat/${th}T/p50`, false, `batch-1 p50 ${th}T`)),
      ratio(rel(i, `lat/${th}T/p99`, false, `batch-1 p99 ${th}T`))]),
  ])]);
  out(table(lHead, lRows, align(lHead.length)));
  out();

  // MLP throughput
  out(`### MLP 784-256-256-10 samples/s (${N} thread${N > 1 ? 's' : ''}; % peak from useful FLOP: ` +
    `${num(mlpForwardFlops)} per inferred sample, ${num(mlpTrainFlops)} per trained sample)`);
  out();
  const cells = [
    { key: 'infer256', label: 'inference, batch 256', flops: mlpForwardFlops },
    { key: 'sgd128', label: 'training step SGD, batch 128', flops: mlpTrainFlops },
    { key: 'adam128', label: 'training step Adam, batch 128', flops: mlpTrainFlops },
  ];
  const mHead = ['case', ...isas.flatMap((i) => [`${name(i)} samples/s`, '% peak', ...(i === base ? [] : [`× ${base}`])])];
  const mRows = cells.map((c) => [c.label, ...isas.flatMap((i) => {
    const s = get(i, c.key);
    return [num(s), pct(s && (100 * s * c.flops) / peak(N)), ...(i === base ? [] : [ratio(rel(i, c.key, true, c.label))])];
  })]);
  out(table(mHead, mRows, align(mHead.length)));
  out();
  if (slower.length) {
    out(`**The default ISA (${def}) is more than 5 % slower than ${base} on:** ${slower.join('; ')}. ` +
      `(On a busy machine single cells can swing by more than that; rerun with more rounds, FATHOM_BENCH_ROUNDS=5, before acting.)`);
  } else {
    out(`The default ISA (${def}) is within 5 % of ${base} or faster in every cell.`);
  }
  out();
  return slower;
}
