// This process's OS threads as the kernel reports them (Linux /proc), for the thread-priority tests.
import { readdirSync, readFileSync } from 'node:fs';

/** Nice values of this process's threads (Linux), by thread id. */
export function nices(): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync('/proc/self/task')) {
    try {
      const f = readFileSync(`/proc/self/task/${t}/stat`, 'utf8');
      out.set(Number(t), Number(f.slice(f.lastIndexOf(')') + 2).split(' ')[16])); // field 19: nice
    } catch { /* the thread ended */ }
  }
  return out;
}
