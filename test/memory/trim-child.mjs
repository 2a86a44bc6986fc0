// Child of malloc-trim.test.ts (run with --expose-gc): prints, as JSON, the
// RSS in MiB before, at the high-water mark of 40 MiB of tensor data, after a
// full GC has freed it, and 2.3 s after the next native call (the trim thread's round).
import { readFileSync } from 'node:fs';

const f = await import(new URL('../../dist/index.js', import.meta.url).href);
const op = () => f.tensor([1, 2]).add(f.tensor([1, 2]));
op();
const rss = () => (Number(readFileSync('/proc/self/statm', 'utf8').split(' ')[1]) * 4096) / 1048576;
const settle = async () => {
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 20));
  }
};
// A freed 16 MiB block raises glibc's dynamic mmap threshold: the 1 MiB blocks
// below then come from the heap, as a long run's tensors do.
let big = new Float32Array(4 << 20);
big.fill(1);
big = null;
await settle();
const before = rss();
let keep = [];
for (let i = 0; i < 40; i++) {
  const a = new Float32Array(256 << 10);
  a.fill(1);
  keep.push(a);
}
const pin = [];
for (let i = 0; i < 100; i++) pin.push(new Float32Array(100)); // small tensors that stay, above the big ones
const high = rss();
keep = null;
await settle();
const afterGc = rss();
await new Promise((r) => setTimeout(r, 2100));
op(); // native activity: the background thread trims within its next 2 s round
await new Promise((r) => setTimeout(r, 2300));
console.log(JSON.stringify({ before, high, afterGc, afterCall: rss(), pinned: pin.length }));
