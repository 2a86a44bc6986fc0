/**
 * Thread priority for the threads that compute beside a server's JS thread (issue #13).
 *
 * A worker thread (InferencePool, fitInWorker) and the native kernel pool's threads compete for the cores
 * with the thread that runs the event loop. Under Linux's scheduler a thread that wakes up (a worker
 * handed a batch) may preempt the thread that woke it: measured in examples/server, the JS thread's
 * `postMessage` of a batch then took 0.5 ms at p90 and 2 ms at p99 (the worker ran its forward pass
 * first) instead of ~30 µs. A worker thread at a lower priority (a higher nice value) no longer does.
 *
 * Linux only: the nice value is per thread there (setpriority(PRIO_PROCESS, tid) — what `os.setPriority`
 * calls — changes one thread), and a thread created later inherits its creator's. Elsewhere every function
 * here changes nothing and says so (undefined / 0). Priorities are only ever LOWERED: raising one back
 * needs privilege (CAP_SYS_NICE), so a thread already at a higher nice value keeps it.
 *
 * Internal (used by serve.InferencePool's `nice` option, and for fitInWorker).
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { nativeBinding } from '../backend/index.js';
import { show } from '../layers/options.js';

/** The calling thread's OS thread id (Linux: from /proc/thread-self), or undefined elsewhere. */
export function threadId(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const m = /\/task\/(\d+)$/.exec(readlinkSync('/proc/thread-self'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Checks a nice value: an integer in 0..19 (0: the default priority, 19: the lowest).
 * @throws `fathom.<op>: options.nice must be an integer in 0..19 (a higher value is a lower priority), got …`
 */
export function checkNice(op: string, nice: unknown): number {
  if (typeof nice !== 'number' || !Number.isInteger(nice) || nice < 0 || nice > 19) {
    throw new Error(`fathom.${op}: options.nice must be an integer in 0..19 (a higher value is a lower priority), got ${show(nice)}`);
  }
  return nice;
}

/**
 * Lowers one thread's priority to at least `nice` (it keeps a higher nice value it already has).
 * @param nice 0..19 (checked by the caller: checkNice)
 * @param tid an OS thread id of this process; default the calling thread
 * @returns the thread's nice value afterwards, or undefined off Linux (or when the thread is gone)
 */
export function lowerThreadPriority(nice: number, tid: number | undefined = threadId()): number | undefined {
  if (tid === undefined || tid <= 0) return undefined;
  try {
    const now = getPriority(tid);
    if (now < nice) setPriority(tid, nice);
    return getPriority(tid);
  } catch {
    return undefined; // the thread ended meanwhile
  }
}

/**
 * Lowers the native kernel pool's worker threads to at least `nice` (runtime/pool.h). The pool is one per
 * process: its threads compute for every thread's kernels (a forward pass on the JS thread too), so this is
 * for processes whose JS thread leaves the computing to workers (a server). Threads the pool starts later
 * are not covered (it starts them all at its first use, before any kernel runs).
 *
 * First caller wins: when the kernel threads are already below the process's main thread (an InferencePool
 * or a fitInWorker with `nice` lowered them), they are left as they are. A server's inference pool at nice
 * 10 and a training run beside it at 15 share these threads: lowering them to 15 (for good: a priority is
 * never raised back) would put every later forward pass of the server at the training's priority.
 * @returns the number of threads changed (0 off Linux, on the TS backend, with a one-thread pool, or when
 *   they were lowered already)
 */
export function lowerKernelThreadsPriority(nice: number): number {
  const ids = (nativeBinding()?.poolThreadIds?.() ?? []).filter((tid) => tid > 0);
  let main: number;
  try {
    main = getPriority(process.pid); // the main thread's (on Linux the process id is its thread id)
  } catch {
    return 0;
  }
  for (const tid of ids) {
    try {
      if (getPriority(tid) > main) return 0; // lowered by an earlier caller: theirs holds
    } catch { /* the thread ended */ }
  }
  let n = 0;
  for (const tid of ids) if (lowerThreadPriority(nice, tid) !== undefined) n++;
  return n;
}
