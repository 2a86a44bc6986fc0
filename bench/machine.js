/**
 * The machine and its FP32 peak.
 *
 *   peak per core (FLOP/s) = clock (Hz) × FLOP per cycle
 *   FLOP per cycle (FP32 FMA) = FMA units × SIMD lanes × 2 (an FMA is a multiply and an add):
 *     AVX-512 (avx512f):   2 × 16 × 2 = 64   (assumes 2 512-bit FMA units; 1-unit Xeons reach 32)
 *     AVX-512 on Zen 4:    2 ×  8 × 2 = 32   (AMD family 25 with avx512f: 512-bit ops run as two
 *                                              256-bit halves, so the peak is AVX2's)
 *     AVX2 + FMA:          2 ×  8 × 2 = 32   (Haswell and later, Zen 2/3/4)
 *     NEON (aarch64):      2 ×  4 × 2 = 16   (2 128-bit FMA pipes, e.g. Neoverse N1;
 *                                              Apple M-series and Neoverse V1 have 4: 32)
 *     otherwise (SSE):     4-wide add + 4-wide mul = 8
 *   FATHOM_FLOP_PER_CYCLE overrides it.
 *
 * Clock (FATHOM_CPU_GHZ overrides it), in this order:
 *   1. /sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq (the maximum boost clock);
 *   2. else the larger of /proc/cpuinfo "cpu MHz" (max over CPUs) and a measured clock: a chain of
 *      dependent FP multiplies (3 cycles each on AMD Zen and Arm cores, 4 on Intel since Skylake)
 *      timed for ~0.1 s. Virtual machines report the nominal (TSC) clock in "cpu MHz", which is
 *      below the boost clock the cores actually run at; the measurement sees the real one.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';

function read(path) {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** Dependent multiply chain: returns GHz given the multiply latency in cycles. */
function measureGHz(latency) {
  const chain = (n) => {
    let x = 1.0;
    for (let i = 0; i < n; i++) x *= 1.0000001;
    return x;
  };
  for (let w = 0; w < 3; w++) chain(2e6); // let the JIT optimise it
  let best = 0;
  let sink = 0;
  for (let r = 0; r < 12; r++) {
    const n = 2e7;
    const t = process.hrtime.bigint();
    sink += chain(n);
    const s = Number(process.hrtime.bigint() - t) / 1e9;
    best = Math.max(best, (n * latency) / s / 1e9);
  }
  if (sink === 42) console.log(''); // keep the result alive
  return best;
}

export function machineInfo() {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const field = (name) => {
    const m = cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, 'mi'));
    return m ? m[1].trim() : '';
  };
  const model = field('model name') || os.cpus()[0]?.model || 'unknown CPU';
  const vendor = field('vendor_id') || (process.arch === 'arm64' ? 'arm' : 'unknown');
  const flags = new Set((field('flags') || field('Features')).split(/\s+/));
  const cores = os.availableParallelism ? os.availableParallelism() : os.cpus().length;

  // FLOP per cycle
  let isa;
  let flopPerCycle;
  const family = Number(field('cpu family'));
  if (flags.has('avx512f') && vendor === 'AuthenticAMD' && family === 25) {
    [isa, flopPerCycle] = ['AVX-512 on AMD Zen 4 (executed as 2 × 256-bit: the AVX2 peak)', 32];
  } else if (flags.has('avx512f')) [isa, flopPerCycle] = ['AVX-512 (2 FMA units assumed)', 64];
  else if (flags.has('avx2') && flags.has('fma')) [isa, flopPerCycle] = ['AVX2+FMA', 32];
  else if (process.arch === 'arm64') [isa, flopPerCycle] = ['NEON (2 FMA pipes assumed)', 16];
  else [isa, flopPerCycle] = ['SSE (no FMA)', 8];
  if (process.env.FATHOM_FLOP_PER_CYCLE) {
    flopPerCycle = Number(process.env.FATHOM_FLOP_PER_CYCLE);
    isa += `; FLOP/cycle overridden by FATHOM_FLOP_PER_CYCLE=${flopPerCycle}`;
  }

  // Clock
  const latency = vendor === 'GenuineIntel' ? 4 : 3;
  const measured = measureGHz(latency);
  const mhz = [...cpuinfo.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gim)].map((m) => Number(m[1]));
  const cpuinfoGHz = mhz.length ? Math.max(...mhz) / 1000 : 0;
  const sysKHz = Number(read('/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq') ?? 0);
  const measuredNote = `measured ${measured.toFixed(2)} GHz (dependent FP-multiply chain, ${latency} cycles/mul)`;
  let ghz;
  let clockSource;
  if (process.env.FATHOM_CPU_GHZ) {
    ghz = Number(process.env.FATHOM_CPU_GHZ);
    clockSource = `FATHOM_CPU_GHZ=${process.env.FATHOM_CPU_GHZ} (override); ${measuredNote}`;
  } else if (sysKHz > 0) {
    ghz = sysKHz / 1e6;
    clockSource = `/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq; ${measuredNote}`;
  } else if (cpuinfoGHz > 0 && cpuinfoGHz >= measured) {
    ghz = cpuinfoGHz;
    clockSource = `/proc/cpuinfo "cpu MHz" max (${(cpuinfoGHz * 1000).toFixed(0)} MHz); ${measuredNote}`;
  } else {
    ghz = measured;
    clockSource = `${measuredNote}; used because it is above /proc/cpuinfo "cpu MHz" max` +
      (cpuinfoGHz > 0 ? ` (${(cpuinfoGHz * 1000).toFixed(0)} MHz, the nominal clock a VM reports)` : ' (absent)') +
      '; no cpufreq in /sys';
  }
  const peakCore = ghz * 1e9 * flopPerCycle;
  return { model, vendor, cores, isa, flopPerCycle, ghz, clockSource, peakCore, measuredGHz: measured, cpuinfoGHz };
}

/**
 * Contention: how many CPUs other processes kept busy between two snapshots (from /proc/stat,
 * minus this process's own CPU time and its finished children's). On a shared box this says how much
 * to trust a table.
 */
export function cpuSnapshot() {
  const stat = read('/proc/stat');
  const f = stat?.match(/^cpu\s+(.*)$/m)?.[1].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait (USER_HZ = 100)
  const busyS = f ? (f[0] + f[1] + f[2] + f[5] + f[6] + (f[7] ?? 0)) / 100 : null;
  const own = process.cpuUsage();
  // Children this process waited for (the per-ISA bench processes) are ours too: cutime + cstime
  // from /proc/self/stat (fields 16 and 17, after the parenthesised command name; USER_HZ = 100).
  const st = read('/proc/self/stat')?.split(') ')[1]?.split(' ').map(Number);
  const childrenS = st && st.length > 14 ? (st[13] + st[14]) / 100 : 0;
  return { busyS, ownS: (own.user + own.system) / 1e6 + childrenS, wallS: performance.now() / 1e3 };
}

/** Average number of CPUs used by other processes since snapshot s (null where /proc/stat is absent). */
export function othersSince(s) {
  const now = cpuSnapshot();
  if (s.busyS == null || now.busyS == null) return null;
  const wall = now.wallS - s.wallS;
  return wall > 0 ? Math.max(0, (now.busyS - s.busyS - (now.ownS - s.ownS)) / wall) : null;
}
